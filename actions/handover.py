"""Handing a conversation to staff: on request, and after the bot failed to understand twice."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.info import answered_as_follow_up
from actions.runtime import DatabaseAction, channel_of, in_transaction, language_of, service_values
from actions.tasks import task_done
from bot.cards.holders import find_cardholder
from bot.contract import FALLBACK_INTENT
from bot.handover.live import HandoverRequest
from bot.models import VAULT_INFO_KEY
from bot.review.flags import flag_conversation

# Slots of a confirmation, which never outlives a handover.
_NOTHING_WAITING = ("awaiting_confirmation", "confirmation_reply")
# What the assistant says to a message it did not understand.
_MISS_REPLIES = frozenset({"utter_ask_rephrase", "utter_offer_human"})
# Actions that run around every message without answering it.
_NOT_AN_ANSWER = frozenset({"action_listen", "action_extract_slots", "action_session_start"})


def _flag(reason: str):
    """Flag the conversation, linked to the verified person's card record if there is one; the flag's id."""

    def work(session, settings, conversation_id: str, channel: str, verified_id_number: str | None) -> int:
        holder = None
        if verified_id_number:
            holder = find_cardholder(session, vault=session.info[VAULT_INFO_KEY], id_number=verified_id_number)
        flag = flag_conversation(
            session, conversation_id=conversation_id, channel=channel, reason=reason,
            cardholder_id=holder.id if holder else None,
        )  # fmt: skip
        return flag.id

    return work


async def hand_over(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str, *, say: str) -> None:
    """Flag the conversation, then say the response `say` and tell the channel to hand it to staff,
    with what the bot knows: the hotline transfers the call; chat and SMS open a live handover
    (bot.handover.live). Nothing is said of staff unless the flag that shows them the conversation is saved."""
    verified = tracker.get_slot("verified_id_number")
    flag_id = await in_transaction(
        _flag(reason), conversation_id=tracker.sender_id, channel=channel_of(tracker), verified_id_number=verified
    )
    dispatcher.utter_message(response=say, **service_values(tracker))
    # Someone whose identity check failed and who asks for help is shown to staff as such.
    why = "identity_failed" if tracker.get_slot("identity_locked") else reason
    request = HandoverRequest(
        reason=why, task=tracker.get_slot("task"), verified=bool(verified), flag_id=flag_id,
        language=language_of(tracker),
    )  # fmt: skip
    dispatcher.utter_message(json_message=request.payload())


def misses_in_a_row(tracker: Tracker) -> int:
    """How many of the latest user messages in a row the model did not understand.

    Only misses answered as misses count: a reply to a confirmation is read by confirmation_form
    whatever the classifier made of it, and never brings the person closer to staff.
    """
    count = 0
    answered_by: str | None = None  # the first action after the user message being looked at
    said: set[str | None] = set()  # the responses that answered it
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") not in _NOT_AN_ANSWER:
            answered_by = event.get("name")
            continue
        if event.get("event") == "bot":
            said.add((event.get("metadata") or {}).get("utter_action"))
            continue
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT or answered_by not in (None, "action_nlu_fallback"):
            break
        if answered_by and said - {None} and not said & _MISS_REPLIES:
            break  # answered after all, as a follow-up to what was said before it ("要带啥", "did it work?")
        count += 1
        answered_by, said = None, set()
    return count


def _at_confirmation(tracker: Tracker) -> bool:
    """Whether staff were asked for instead of answering a confirmation."""
    return tracker.get_slot("confirmation_reply") == "human"


def _nothing_waiting(tracker: Tracker) -> list[dict]:
    """Nothing stays waiting for a yes after a handover; asked for at a confirmation, the task ends."""
    return task_done() if _at_confirmation(tracker) else [SlotSet(slot, None) for slot in _NOTHING_WAITING]


class ActionHandover(DatabaseAction):
    """Flags the conversation ``human_requested`` and tells the person how to reach staff, who see
    which task was under way. The task stays for when the person comes back to the assistant,
    except that nothing is left waiting for a yes (the rules list those slots as cleared).

    Asked for instead of answering a confirmation, it first says the change was not made, and the
    task ends.
    """

    def name(self) -> str:
        return "action_handover"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if _at_confirmation(tracker):
            dispatcher.utter_message(response="utter_nothing_changed")
        await hand_over(dispatcher, tracker, "human_requested", say="utter_handover")
        return _nothing_waiting(tracker)

    def after_failure(self, tracker: Tracker) -> list[dict]:
        return _nothing_waiting(tracker)  # staff could not be told, but nothing may stay waiting for a yes


class ActionNluFallback(DatabaseAction):
    """Every miss flags ``nlu_fallback`` (once per conversation while open): staff see each message
    the assistant did not understand, and can label it. The first miss asks to rephrase; the second
    in a row offers a human."""

    def name(self) -> str:
        return "action_nlu_fallback"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        if answered_as_follow_up(dispatcher, tracker):  # "did it work?" right after a change: not a miss to staff
            return []
        if misses_in_a_row(tracker) < 2:
            await in_transaction(
                _flag("nlu_fallback"), conversation_id=tracker.sender_id, channel=channel_of(tracker),
                verified_id_number=tracker.get_slot("verified_id_number"),
            )  # fmt: skip
            dispatcher.utter_message(response="utter_ask_rephrase")
            return []
        await hand_over(dispatcher, tracker, "nlu_fallback", say="utter_offer_human")  # flags it too
        return []
