"""The identity form, checked against the card database.

Chat and SMS: the ID number, then the registered full name (both may come in one message). Phone:
the ID number, then either the caller ID matches the registered phone (nothing more to ask) or the
last four digits of it. A verification holds for one card and one person: an ID number other than
the verified one starts a new check, and after a few idle minutes the check is asked again. The
validation that completes the form starts the task (actions/tasks.py).
"""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT, FormValidationAction
from rasa_sdk.types import DomainDict

from actions.info import ID_HELP, INFO_RESPONSES, answered_as_follow_up, say_what_is_wrong
from actions.runtime import (
    UNAVAILABLE,
    answers_only,
    apologise,
    channel_of,
    gives_id_number,
    in_transaction,
    now,
    service_values,
    traced,
    trusted_metadata,
    typed_text,
)
from actions.tasks import keep_checked_card, keeping_checked_card, start_task_when_done, task_done
from actions.verification import forget_everything, forget_verification, idle_too_long, other_than_verified
from bot.contract import CALLER, CLIENT
from bot.errors import IdentityLocked, IdentityNotVerified, InvalidIdNumber
from bot.identity.answers import (
    about_someone_else,
    corrected_name,
    could_be_a_name,
    does_not_know,
    id_number_question,
    id_number_unknown,
    introduced_name,
    last_four_beside_id,
    looks_like_latin_name,
    name_beside_id,
    name_from_answer,
    says_id_number_wrong,
)
from bot.identity.idnumbers import validate_id_number
from bot.language.extraction import (
    corrected_number,
    id_number_attempt,
    normalise_message,
    the_corrected_digits,
    the_digits,
)
from bot.language.text import QUESTION_ZH, a_pause, says_stop
from bot.services import check_caller, check_identity_and_card

_RESET = {"id_number": None, "person_name": None, "phone_last4": None}
_CLIENT_TOKEN = re.compile(r"[0-9a-f]{16,64}")
# Answers that mean "stop" or "let me talk to someone" are never taken as details.
_STOP_INTENTS = frozenset({"deny", "request_human"})
_DIGIT_SLOTS = frozenset({"id_number", "phone_last4"})
_DIGIT = re.compile(r"\d")
# Questions, requests and goodbyes that rules answer in the middle of the form (data/rules.yml),
# after which the form asks again (or, after a goodbye, ends). Names are often classified as one
# of these, with little confidence, so only a message the model is this sure about is left to them.
_ANSWERED_BY_RULES = frozenset(INFO_RESPONSES) | {"check_progress", "report_loss", "cancel_loss", "goodbye"}
_SURELY_NOT_AN_ANSWER = 0.9
# Replies that are surely not a name ("好的", "谢谢"): asked again without spending an attempt.
# Latin-script names are often read as small talk, so one that looks like a name is still taken.
_NOT_A_NAME = frozenset({"affirm", "thank", "greet", "goodbye"})


def _client(tracker: Tracker) -> str | None:
    """The keyed token of where the message came from, as the web app put it in the metadata."""
    client = (tracker.latest_message.get("metadata") or {}).get(CLIENT)
    return client if isinstance(client, str) and _CLIENT_TOKEN.fullmatch(client) else None


# A question the classifier took for a no ("到底挂上了没有"): asked again, never a stop.
_ASKED = re.compile(f"{QUESTION_ZH}|了没有?$")


def _still_an_answer(slot: str, text: str) -> bool:
    """Whether a message read as a no still answers `slot`: digits where digits were asked ("不对，我说
    错了，是三二零…"), a name after a correction where the name was asked ("不对，打错了，是王芳"), or a
    question, which the form meets by asking again rather than dropping the request."""
    if slot in _DIGIT_SLOTS and _DIGIT.search(normalise_message(text)):
        return True
    return (slot == "person_name" and corrected_name(text) is not None) or bool(_ASKED.search(text))


def _take_your_time(dispatcher: CollectingDispatcher, said: str) -> None:
    """A pause ("稍等，我去找身份证") is told to take its time; the form's question follows, so the
    request goes on when they are back."""
    if a_pause(said):
        dispatcher.utter_message(response="utter_take_your_time")


def _answer_to(slot: str, tracker: Tracker) -> dict[str, Any]:
    """The latest message as the answer to `slot`, if the form asked for it and it is an answer."""
    intent = tracker.latest_message.get("intent") or {}
    text = typed_text(tracker)
    if tracker.get_slot("requested_slot") != slot or not text:
        return {}
    if a_pause(text) and not _DIGIT.search(normalise_message(text)):
        return {slot: text}  # however classified: told to take their time, then asked again
    if slot in _DIGIT_SLOTS and (says_id_number_wrong(text) or (does_not_know(text) and not says_stop(text))):
        # "号码不对" (often read as a no): the ID number is asked again, the request stays; "我不记得了",
        # "I don't know it": what else can be done, rather than a stop or an answer about the ID number.
        return {slot: text}
    if slot == "person_name" and looks_like_latin_name(name_from_answer(text)):
        return {slot: text}  # whatever the classifier made of it ("Lena Vogel" was once a no)
    if slot == "person_name" and intent.get("name") == "out_of_scope" and could_be_a_name(text):
        return {slot: text}  # "钱多多": a name that reads as words, which the classifier took for a question
    if intent.get("name") in _STOP_INTENTS and not _still_an_answer(slot, text):
        return {}
    if intent.get("name") in _ANSWERED_BY_RULES and (intent.get("confidence") or 0) >= _SURELY_NOT_AN_ANSWER:
        return {}
    return {slot: text}


_TASK_OF_INTENT = {"check_progress": "progress", "report_loss": "loss", "cancel_loss": "unblock"}


def _task_asked_for(tracker: Tracker) -> list[dict]:
    """The card task the latest message asks for while the form asks for details ("不是挂失，我要查进度"):
    the check goes on for it. Said again, it is set again, so the form carries on rather than being
    rejected for a message that answers nothing (which left the person with "I can't help with that")."""
    intent = tracker.latest_message.get("intent") or {}
    task = _TASK_OF_INTENT.get(intent.get("name"))
    if task is None or (intent.get("confidence") or 0) < _SURELY_NOT_AN_ANSWER:
        return []
    if task == tracker.get_slot("task") and not tracker.get_slot(REQUESTED_SLOT):
        return []  # nothing asked, so nothing to reject: the task stands as it is
    return [SlotSet("task", task)]


def _stale_verification(tracker: Tracker) -> list[dict]:
    """Events that end a verification that no longer holds, before the form decides what to ask.

    After the idle limit everything goes (an ID number in this very message is kept); an ID number
    other than the verified one, or a request about someone else's card, ends the verification,
    so that card gets its own check.
    """
    held = ("verified_id_number", "id_number", "person_name", "identity_locked")
    if idle_too_long(tracker) and any(tracker.get_slot(slot) for slot in held):
        events = [e for e in forget_everything() if e["name"] not in ("task", "requested_slot")]
        return [e for e in events if not (e["name"] == "id_number" and gives_id_number(tracker))]
    if (
        tracker.get_slot("verified_id_number")
        and not gives_id_number(tracker)
        and about_someone_else(typed_text(tracker))
    ):
        # "我老婆的也查一下": another person's card gets its own check, from the ID number on.
        return [*forget_verification(), *(SlotSet(slot, None) for slot in ("id_number", "person_name", "phone_last4"))]
    if not other_than_verified(tracker):
        return []
    return [*forget_verification(), SlotSet("person_name", None), SlotSet("phone_last4", None)]


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
        # "要带什么材料啊", "多久能拿到" after an answer, taken for a card task: answered as the follow-up
        # it is, and no check starts (nothing was asked yet). A verified person whose question has no
        # answer of its own here gets the task's ("那挂失什么时候过期": the report in force, its date).
        # Asked at the ID number or last-four prompt ("那要带什么"), it is answered and the same detail
        # asked again.
        verified = bool(tracker.get_slot("verified_id_number"))
        asking = tracker.get_slot(REQUESTED_SLOT)
        if (
            asking in (None, "id_number", "phone_last4")
            and not _DIGIT.search(normalise_message(typed_text(tracker)))
            and answered_as_follow_up(dispatcher, tracker, for_the_task=verified)
        ):
            return [SlotSet(REQUESTED_SLOT, None), *task_done()] if asking is None else [SlotSet(asking, None)]
        stale = [*_stale_verification(tracker), *_task_asked_for(tracker)]
        tracker.add_slots(stale)
        try:
            with keeping_checked_card():
                events = [*stale, *await super().run(dispatcher, tracker, domain)]
                return [*events, *await start_task_when_done(self, dispatcher, tracker, domain)]
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
        asking = tracker.get_slot("requested_slot")
        text = typed_text(tracker)
        if (asking in ("id_number", "person_name") and (question := id_number_question(text))) or (
            asking is None and id_number_unknown(text) and (question := "where")
        ):
            dispatcher.utter_message(response=ID_HELP[question], **service_values(tracker))
            # Where the number itself was asked, an answer of sorts ("我不记得身份证号了", often read as
            # a no): the question again after the help, rather than the request stopped.
            return {} if asking == "person_name" else {"id_number": None}
        if asking is None and (attempt := id_number_attempt(text)):
            return {"id_number": attempt}  # mistyped in the request itself: told what is wrong with it
        return _answer_to("id_number", tracker)

    async def extract_person_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if gives_id_number(tracker):
            # A name beside the ID number ("我叫…，身份证…", "<ID> Zhao Min"); never the number as a name.
            name = name_beside_id(typed_text(tracker))
            return {"person_name": name} if name else {}
        if tracker.get_slot(REQUESTED_SLOT) is None and not tracker.get_slot("person_name"):
            # "你好，我叫陈静，想查下进度": kept for the ID number to come, so it is not asked for again.
            name = introduced_name(typed_text(tracker))
            return {"person_name": name} if name else {}
        return _answer_to("person_name", tracker)

    async def extract_phone_last4(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if gives_id_number(tracker) and (digits := last_four_beside_id(typed_text(tracker))):
            return {"phone_last4": digits}  # "身份证…，手机尾号1004": both answers in one breath
        return _answer_to("phone_last4", tracker)

    @answers_only
    async def validate_id_number(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            id_number = validate_id_number(corrected_number(str(slot_value)) or str(slot_value))
        except InvalidIdNumber as invalid:
            if not _DIGIT.search(normalise_message(str(slot_value))):
                if does_not_know(str(slot_value)):  # "我不知道号码": where to find it
                    dispatcher.utter_message(response=ID_HELP["where"], **service_values(tracker))
                _take_your_time(dispatcher, str(slot_value))
                return {"id_number": None}  # "嗯好的": no attempt at a number, so just the question again
            say_what_is_wrong(dispatcher, invalid)
            return {"id_number": None}
        caller = trusted_metadata(tracker).get(CALLER)
        if channel_of(tracker) != "voice" or not caller:
            kept = tracker.get_slot("person_name")
            if kept and "person_name" not in tracker.slots_to_validate():
                # The name came first ("我叫陈静，查进度", then the ID number): checked now with it.
                tracker.slots["id_number"] = id_number
                return {
                    "id_number": id_number,
                    **await self._check(dispatcher, tracker, "person_name", kept, name=kept),
                }
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

    @answers_only
    async def validate_person_name(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = str(slot_value).strip()
        name = name_from_answer(said)
        intent = tracker.latest_message.get("intent") or {}
        sure = (intent.get("confidence") or 0) >= _SURELY_NOT_AN_ANSWER
        # "好的" read as a yes is no name; "嗯，是张伟" (a yes to the classifier) names one around its words.
        small_talk = intent.get("name") in _NOT_A_NAME and sure and name == said and not looks_like_latin_name(name)
        if not could_be_a_name(name) or small_talk:
            _take_your_time(dispatcher, said)
            return {"person_name": None}  # asked again, no attempt spent on what is not a name
        return await self._check(dispatcher, tracker, "person_name", name, name=name)

    @answers_only
    async def validate_phone_last4(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("verified_id_number"):
            return {"phone_last4": None}  # the caller ID, checked with the ID number given beside them, sufficed
        said = str(slot_value)
        if says_id_number_wrong(said):
            return {"id_number": None, "phone_last4": None}
        digits = the_digits(said) or the_corrected_digits(said) or ""
        if len(digits) != 4:
            if a_pause(said):
                _take_your_time(dispatcher, said)
            elif _DIGIT.search(normalise_message(said)):
                dispatcher.utter_message(response="utter_invalid_last_four")
            else:  # "我不记得了", "那怎么办啊", "好吧": what else can be done, not "that wasn't four digits"
                dispatcher.utter_message(response="utter_last_four_help", **service_values(tracker))
            return {"phone_last4": None}
        # The caller ID goes too: on a locked ID number, it and the last four digits together verify.
        caller = (tracker.latest_message.get("metadata") or {}).get(CALLER)
        given = {"phone_last4": digits, "caller_id": caller} if isinstance(caller, str) else {"phone_last4": digits}
        return await self._check(dispatcher, tracker, "phone_last4", digits, **given)

    async def _check(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, value: str, **given: str
    ) -> dict[str, Any]:
        """Run the identity check with the second detail; a failure never says which part was wrong.

        A failure reads the same whether or not the ID number exists, and the attempts left are counted.
        """
        id_number = tracker.get_slot("id_number")
        if not id_number:
            # A name before the ID number is kept for it (validate_id_number checks the two then).
            return {slot: value if slot == "person_name" else None}
        try:
            verified, card = await in_transaction(
                check_identity_and_card,
                conversation_id=tracker.sender_id,
                channel=channel_of(tracker),
                id_number=id_number,
                now=now(),
                client=_client(tracker),
                **given,
            )
        except IdentityNotVerified as failure:
            dispatcher.utter_message(response="utter_identity_not_verified", attempts_left=failure.attempts_left)
            if slot == "person_name" and looks_like_latin_name(value):
                # "Huang Lei" for 黄磊: said to everyone who gives a Latin name, so it tells nothing.
                dispatcher.utter_message(response="utter_name_in_characters")
            # Chat asks for the name again (the reply invites a corrected ID number too); the phone
            # starts again from the ID number, which it reads back with the question.
            return {slot: None} if slot == "person_name" else {**_RESET, slot: None}
        except IdentityLocked:
            dispatcher.utter_message(response="utter_identity_locked", **service_values(tracker))
            return {**_RESET, slot: None, "identity_locked": True, "task": None}
        keep_checked_card(id_number, card)
        return {slot: value, "verified_id_number": id_number, "verified_loss_only": verified.loss_only}
