"""Answers that need no identity: replacing, applying, activating, cross-region use, details."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.runtime import service_values, traced

INFO_RESPONSES = {
    "replace_card": "utter_replace_card",
    "cross_region": "utter_cross_region",
    "apply_card": "utter_apply_card",
    "activate_card": "utter_activate_card",
    "update_info": "utter_update_info",
    "out_of_scope": "utter_out_of_scope",
}


class ActionAnswerInfo(Action):
    """Answers the latest information question with this city's values (hotline, hours, fee)."""

    def name(self) -> str:
        return "action_answer_info"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        response = INFO_RESPONSES.get(intent, "utter_default")
        values = service_values(tracker)
        if response == "utter_replace_card" and values["fee"] == 0:
            response = "utter_replace_card_free"
        dispatcher.utter_message(response=response, **values)
        return []


class ActionAskTask(Action):
    """A number or name given out of the blue: keep it, and ask what the person wants to do."""

    def name(self) -> str:
        return "action_ask_task"

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        dispatcher.utter_message(response="utter_ask_what_task")
        return []
