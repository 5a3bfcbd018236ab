"""Handing a conversation to staff: on request, and after the bot failed to understand twice."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import DatabaseAction, channel_of, in_transaction, service_values
from bot.flags import flag_conversation

FALLBACK_INTENT = "nlu_fallback"
# Tells a channel that can transfer (the hotline) to put the person through to staff.
HANDOVER = {"handover": True}


def _flag(reason: str):
    def work(session, settings, conversation_id: str, channel: str):
        flag_conversation(session, conversation_id=conversation_id, channel=channel, reason=reason)

    return work


def misses_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the model did not understand."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if ((event.get("parse_data") or {}).get("intent") or {}).get("name") != FALLBACK_INTENT:
            break
        count += 1
    return count


class ActionHandover(DatabaseAction):
    """Flags the conversation ``human_requested`` and tells the person how to reach staff."""

    def name(self) -> str:
        return "action_handover"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        await in_transaction(_flag("human_requested"), conversation_id=tracker.sender_id, channel=channel_of(tracker))
        dispatcher.utter_message(response="utter_handover", **service_values(tracker))
        dispatcher.utter_message(json_message=HANDOVER)
        return []


class ActionNluFallback(DatabaseAction):
    """First miss: ask to rephrase. Second miss in a row: offer a human and flag ``nlu_fallback``."""

    def name(self) -> str:
        return "action_nlu_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if misses_in_a_row(tracker) < 2:
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        await in_transaction(_flag("nlu_fallback"), conversation_id=tracker.sender_id, channel=channel_of(tracker))
        dispatcher.utter_message(response="utter_offer_human", **service_values(tracker))
        dispatcher.utter_message(json_message=HANDOVER)
        return []
