"""The identity form, checked against the card database.

Chat and SMS: the ID number, then the registered full name. Phone: the ID number, then either the
caller ID matches the registered phone (nothing more to ask) or the last four digits of it.
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
    apologise,
    channel_of,
    in_transaction,
    now,
    service_values,
    traced,
    trusted_metadata,
)
from bot.assistant import check_caller, check_identity, name_from_answer
from bot.errors import IdentityLocked, IdentityNotVerified, InvalidIdNumber
from bot.identity import CLIENT_METADATA_KEY
from bot.idnumbers import validate_id_number
from bot.spoken import normalise_numbers_in_text

_RESET = {"id_number": None, "person_name": None, "phone_last4": None}
_CLIENT_TOKEN = re.compile(r"[0-9a-f]{16,64}")
# Answers that mean "stop" or "let me talk to someone" are never taken as details.
_STOP_INTENTS = frozenset({"deny", "request_human"})
# Questions and requests that rules answer in the middle of the form (data/rules.yml), after which
# the form asks again. Names are often classified as one of these, with little confidence, so
# only a message the model is this sure about is left to those rules.
_ANSWERED_BY_RULES = frozenset(
    {"replace_card", "cross_region", "apply_card", "activate_card", "update_info", "out_of_scope",
     "bot_challenge", "check_progress", "report_loss", "cancel_loss"}
)  # fmt: skip
_SURELY_NOT_AN_ANSWER = 0.9
# Replies that are surely not a name ("好的", "谢谢"): asked again without spending an attempt.
_NOT_A_NAME = frozenset({"affirm", "thank", "greet", "goodbye"})


def _typed_text(tracker: Tracker) -> str:
    """What the person actually sent; `latest_message["text"]` is the NLU-normalised form
    (simplified characters, digits), and 於丹 must not become 于丹 before it is compared."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return (event.get("text") or "").strip()
    return (tracker.latest_message.get("text") or "").strip()


def _client(tracker: Tracker) -> str | None:
    """The keyed token of where the message came from, as the web app put it in the metadata."""
    client = (tracker.latest_message.get("metadata") or {}).get(CLIENT_METADATA_KEY)
    return client if isinstance(client, str) and _CLIENT_TOKEN.fullmatch(client) else None


def _answer_to(slot: str, tracker: Tracker) -> dict[str, Any]:
    """The latest message as the answer to `slot`, if the form asked for it and it is an answer."""
    intent = tracker.latest_message.get("intent") or {}
    text = _typed_text(tracker)
    if tracker.get_slot("requested_slot") != slot or not text or intent.get("name") in _STOP_INTENTS:
        return {}
    if intent.get("name") in _ANSWERED_BY_RULES and (intent.get("confidence") or 0) >= _SURELY_NOT_AN_ANSWER:
        return {}
    return {slot: text}


class ValidateIdentityForm(FormValidationAction):
    """Validates `identity_form`; the name step runs the check, so failures never say which part was wrong."""

    def name(self) -> str:
        return "validate_identity_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("verified_id_number") or tracker.get_slot("identity_locked"):
            return []
        if channel_of(tracker) == "voice":
            return ["id_number", "phone_last4"]
        return domain_slots

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        try:
            return await super().run(dispatcher, tracker, domain)
        except UNAVAILABLE as error:
            await apologise(dispatcher, tracker, error)
            # End this attempt, but do not lock the conversation: the database failed, not the
            # person, who may ask again once it is back.
            return [SlotSet(slot, None) for slot in (*_RESET, "task", REQUESTED_SLOT)]

    async def extract_id_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("id_number"):  # the number extractor found one
            return {}
        return _answer_to("id_number", tracker)

    async def extract_person_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _answer_to("person_name", tracker)

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _answer_to("phone_last4", tracker)

    async def validate_id_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            id_number = validate_id_number(str(slot_value))
        except InvalidIdNumber:
            dispatcher.utter_message(response="utter_invalid_id_number")
            return {"id_number": None}
        caller = trusted_metadata(tracker).get("caller")
        if channel_of(tracker) != "voice" or not caller:
            return {"id_number": id_number}
        try:
            recognised = await in_transaction(
                check_caller,
                conversation_id=tracker.sender_id,
                id_number=id_number,
                caller_id=caller,
                now=now(),
                client=_client(tracker),
            )
        except IdentityLocked:
            dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
            return {**_RESET, "identity_locked": True, "task": None}
        if not recognised:
            return {"id_number": id_number, "verified_id_number": None}
        return {"id_number": id_number, "verified_id_number": id_number, "verified_loss_only": False}

    async def validate_person_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = name_from_answer(str(slot_value))
        intent = tracker.latest_message.get("intent") or {}
        sure = (intent.get("confidence") or 0) >= _SURELY_NOT_AN_ANSWER
        if not name or (intent.get("name") in _NOT_A_NAME and sure):
            return {"person_name": None}
        return await self._check(dispatcher, tracker, "person_name", name, name=name)

    async def validate_phone_last4(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        runs = re.findall(r"\d+", normalise_numbers_in_text(str(slot_value)))  # "后四位是1234。" too
        digits = runs[0] if len(runs) == 1 else ""
        if len(digits) != 4:
            dispatcher.utter_message(response="utter_invalid_last_four")
            return {"phone_last4": None}
        # The caller ID goes too: on a locked ID number, it and the last four digits together verify.
        caller = (tracker.latest_message.get("metadata") or {}).get("caller")
        given = {"phone_last4": digits, "caller_id": caller} if isinstance(caller, str) else {"phone_last4": digits}
        return await self._check(dispatcher, tracker, "phone_last4", digits, **given)

    async def _check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: str, **given: str
    ) -> dict[str, Any]:
        """Run the identity check with the second detail; a failure resets both and never says which."""
        id_number = tracker.get_slot("id_number")
        if not id_number:
            return {slot: None}
        try:
            verified = await in_transaction(
                check_identity,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                id_number=id_number,
                now=now(),
                client=_client(tracker),
                **given,
            )
        except IdentityNotVerified as failure:
            dispatcher.utter_message(response="utter_identity_not_verified", attempts_left=failure.attempts_left)
            return {**_RESET, slot: None}
        except IdentityLocked:
            dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
            return {**_RESET, slot: None, "identity_locked": True, "task": None}
        return {slot: value, "verified_id_number": id_number, "verified_loss_only": verified.loss_only}
