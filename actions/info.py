"""Answers that need no identity: replacing, applying, activating, cross-region use, details."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import gives_id_number, service_values, traced, typed_text
from actions.verification import forget_verification, other_than_verified
from bot.identity.answers import (
    id_number_question,
    looks_like_latin_name,
    name_alone,
    name_beside_id,
    name_from_answer,
)

INFO_RESPONSES = {
    "replace_card": "utter_replace_card",
    "cross_region": "utter_cross_region",
    "apply_card": "utter_apply_card",
    "activate_card": "utter_activate_card",
    "update_info": "utter_update_info",
    "out_of_scope": "utter_out_of_scope",
    "bot_challenge": "utter_iamabot",
}
# Why the ID number is asked for, or where to find it (bot.identity.answers.id_number_question).
ID_HELP = {"where": "utter_id_number_where", "why": "utter_id_number_why"}


class ActionAnswerInfo(Action):
    """Answers the latest information question with this city's values (hotline, hours, fee)."""

    def name(self) -> str:
        return "action_answer_info"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        text = typed_text(tracker)
        asking = tracker.get_slot("requested_slot") if tracker.active_loop_name == "identity_form" else None
        if asking == "person_name" and looks_like_latin_name(name_from_answer(text)):
            return []  # a name read as a question: the identity form, which runs next, takes it
        response = INFO_RESPONSES.get(intent, "utter_default")
        if asking and (question := id_number_question(text)):
            response = ID_HELP[question]
        values = service_values(tracker)
        if response == "utter_replace_card" and values["fee"] == 0:
            response = "utter_replace_card_free"
        dispatcher.utter_message(response=response, **values)
        return []


class ActionAskTask(Action):
    """A number or name given out of the blue: keep it, and ask what the person wants to do.

    A new ID number is kept with the name given beside it, if any, for the check the request
    starts; one other than the verified ID number ends that verification (this card gets its own).
    A name sent on its own after such an ID number is kept too: the request then finds both.
    """

    def name(self) -> str:
        return "action_ask_task"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        dispatcher.utter_message(response="utter_ask_what_task")
        verified = tracker.get_slot("verified_id_number")
        if not gives_id_number(tracker):
            return _name_for_kept_id_number(tracker)
        if verified and not other_than_verified(tracker):
            return []
        name = name_beside_id(typed_text(tracker))
        return [
            *(forget_verification() if verified else []),
            SlotSet("person_name", name),
            SlotSet("phone_last4", None),
        ]


def _name_for_kept_id_number(tracker: Tracker) -> list[dict]:
    """The name in a message that is only a name, kept for an ID number given out of the blue and
    not yet checked (a verified conversation's name is already its holder's)."""
    kept = tracker.get_slot("id_number")
    if not kept or kept == tracker.get_slot("verified_id_number") or tracker.get_slot("person_name"):
        return []
    name = name_alone(typed_text(tracker))
    return [SlotSet("person_name", name)] if name else []
