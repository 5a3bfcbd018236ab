"""When a verification stops counting: the person said goodbye, ended the chat, or went quiet.

Idle time is measured between the person's messages as the tracker's events record them, so it
works on every channel, SMS included, whose conversation is named by the phone number for good.
"""

from __future__ import annotations

import datetime as dt

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.runtime import services, traced
from bot.contract import CONVERSATION_OVER
from bot.errors import InvalidIdNumber
from bot.identity.idnumbers import validate_id_number

# What a verification leaves in the conversation, a pending confirmation included: all of it goes
# when it ends, so no "yes" can act on the card afterwards.
VERIFIED_STATE = (
    "verified_id_number", "verified_loss_only", "holder_masked", "card_number_masked",
    "awaiting_confirmation", "one_time_code",
)  # fmt: skip
_DETAILS = ("id_number", "person_name", "phone_last4")
_TASK = ("task", "identity_locked", REQUESTED_SLOT)


def forget_verification() -> list[dict]:
    """Events that end the verification but keep the details given for the next check."""
    return [SlotSet(slot, None) for slot in VERIFIED_STATE]


def forget_everything() -> list[dict]:
    """Events that leave the conversation as a new person would find it (language aside)."""
    return [SlotSet(slot, None) for slot in (*VERIFIED_STATE, *_DETAILS, *_TASK)]


def idle_too_long(tracker: Tracker, idle_minutes: int | None = None) -> bool:
    """True when the latest message came more than the idle limit after the one before it."""
    limit = idle_minutes if idle_minutes is not None else services().settings.loss_policy.verification_idle_minutes
    stamps = [e.get("timestamp") for e in tracker.events if e.get("event") == "user"][-2:]
    if len(stamps) < 2 or not all(isinstance(s, (int, float)) for s in stamps):
        return False
    return stamps[1] - stamps[0] > dt.timedelta(minutes=limit).total_seconds()


def other_than_verified(tracker: Tracker) -> bool:
    """Whether the conversation holds an ID number other than the verified one (another card)."""
    verified, given = tracker.get_slot("verified_id_number"), tracker.get_slot("id_number")
    if not verified or not given:
        return False
    try:
        return validate_id_number(str(given)) != verified
    except InvalidIdNumber:
        return True


class ActionForgetIdentity(Action):
    """After a goodbye or an ended chat: nothing verified or half-given survives for whoever comes next."""

    def name(self) -> str:
        return "action_forget_identity"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        return take_leave(dispatcher)


def take_leave(dispatcher: CollectingDispatcher) -> list[dict]:
    """The end of a conversation after its goodbye: the phone hangs up, and nothing is remembered."""
    dispatcher.utter_message(json_message={CONVERSATION_OVER: True})
    return forget_everything()
