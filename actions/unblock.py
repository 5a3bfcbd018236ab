"""The one-time code step of cancelling a loss report (解挂): the form that asks for the code sent by SMS.

The task's start (actions/tasks.py) sends the code; `unblock_code_form` takes what the person
types or keys in and checks it in `bot`. Three wrong codes end the attempt (and flag it); a right
one ends the form, and its validation starts the task again, which now asks for the explicit
confirmation.
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.runtime import (
    UNAVAILABLE,
    answers_only,
    apologise,
    channel_of,
    in_transaction,
    now,
    service_values,
    traced,
)
from actions.tasks import CODE_ACCEPTED, start_task_when_done
from bot.errors import CodeAttemptsExhausted, CodeExpired, WrongCode
from bot.identity.one_time_codes import CODE_LENGTH
from bot.language.extraction import the_digits
from bot.services import check_unblock_code

# Answers the rules take instead of the form: stop, staff, goodbye (data/rules.yml).
_STOP_INTENTS = frozenset({"deny", "request_human", "goodbye"})
_END = {"one_time_code": None, "task": None, "awaiting_confirmation": None}
_NOT_RECEIVED = re.compile(
    r"没收到|收不到|没有收到|还没收到|没来|还没到|没看到|没有短信|"
    r"\b(?:didn'?t|did not|haven'?t|have not) (?:get|got|receive|received|see|seen)\b|\bno (?:text|sms|message|code)\b",
    re.IGNORECASE,
)
# The registered mobile out of reach: "手机号换了", "手机不在身边", "I don't have my phone with me".
_CANNOT_REACH = re.compile(
    r"换号|换了号|号码换了|号换了|手机号换了|换手机|换了手机|手机(?:不在|没在)身边|手机丢了|没带手机|手机坏了|停机|不用那个号"
    r"|手机(?:落|忘|放)(?:在)?家|手机没电|\bleft my phone\b|\bphone (?:is )?(?:flat|out of battery)\b"
    r"|\b(?:number|phone) (?:has |was )?changed\b|\bchanged my (?:number|phone)\b|\bnew (?:number|phone)\b"
    r"|\b(?:don'?t|do not) have (?:my|the|that) (?:phone|mobile|number)\b|\blost my (?:phone|mobile)\b"
    r"|\bphone (?:is )?(?:not with me|at home|broken|dead)\b"
    r"|\bno longer (?:have|use) (?:that|the|this) (?:number|phone)\b",
    re.IGNORECASE,
)


def _code_in(text: str) -> str | None:
    """The one 6-digit run in an answer ("验证码是 482 913", "四八二九一三", "four eight two nine one
    three", "482913#"), if exactly one."""
    digits = the_digits(text)
    return digits if digits is not None and len(digits) == CODE_LENGTH else None


class ValidateUnblockCodeForm(FormValidationAction):
    """Validates `unblock_code_form`: asks until the code is right, the tries run out or it expires."""

    def name(self) -> str:
        return "validate_unblock_code_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        # An attempt that ended (task cleared) asks for nothing more.
        return domain_slots if tracker.get_slot("task") == "unblock" else []

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        try:
            events = await super().run(dispatcher, tracker, domain)
            return [*events, *await start_task_when_done(self, dispatcher, tracker, domain)]
        except UNAVAILABLE as error:
            await apologise(dispatcher, tracker, error)
            return [SlotSet(slot, value) for slot, value in {**_END, REQUESTED_SLOT: None}.items()]

    async def extract_one_time_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = (tracker.latest_message.get("text") or "").strip()
        if tracker.get_slot(REQUESTED_SLOT) != "one_time_code" or not text:
            return {}
        if intent in _STOP_INTENTS and _code_in(text) is None:  # "哦收到了 639043" is the code, not a goodbye
            return {}
        return {"one_time_code": text}

    @answers_only
    async def validate_one_time_code(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value == CODE_ACCEPTED:
            return {"one_time_code": CODE_ACCEPTED}
        code = _code_in(str(slot_value))
        id_number = tracker.get_slot("verified_id_number")
        if code is None and _CANNOT_REACH.search(str(slot_value)):
            # "手机号换了": no code will reach them; where it can be done instead, and this attempt ends.
            dispatcher.utter_message(response="utter_code_cannot_reach", **service_values(tracker))
            return _END
        if code is None or not id_number:
            # No try spent on a non-answer; "没收到短信" is told what to expect.
            not_come = code is None and _NOT_RECEIVED.search(str(slot_value))
            dispatcher.utter_message(response="utter_code_not_received" if not_come else "utter_code_format")
            return {"one_time_code": None}
        try:
            await in_transaction(
                check_unblock_code,
                id_number=id_number,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                code=code,
                now=now(),
            )
        except WrongCode as wrong:
            dispatcher.utter_message(response="utter_code_wrong", attempts_left=wrong.attempts_left)
            return {"one_time_code": None}
        except CodeAttemptsExhausted:
            dispatcher.utter_message(response="utter_code_attempts_exhausted", **service_values(tracker))
            return _END
        except CodeExpired:
            dispatcher.utter_message(response="utter_code_expired")
            return _END
        return {"one_time_code": CODE_ACCEPTED}
