"""Calls to the action server carry the latest turns' events and everything else as Rasa sends it."""

from __future__ import annotations

import warnings

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.contract import ACTION_HISTORY_MESSAGES
from rasa_addons import latest_turns

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Rasa's notes on slot mappings
    DOMAIN = Domain.from_dict({"slots": {"task": {"type": "text", "mappings": [{"type": "custom"}]}}})


def long_conversation(turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("web-1", DOMAIN.slots)
    for turn in range(turns):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"第{turn}句", {"name": "inform", "confidence": 0.9}))
        tracker.update(SlotSet("task", f"task-{turn}"))
    return tracker


def test_the_body_lists_the_latest_turns_and_keeps_the_rest_as_rasa_has_it():
    action = RemoteAction("action_confirm_task", EndpointConfig("http://127.0.0.1:5055/webhook"))
    tracker = long_conversation(20)
    ours = latest_turns.action_call_format(action, tracker, DOMAIN)
    rasas = latest_turns._rasa_call_format(action, tracker, DOMAIN)
    said = [e["text"] for e in ours["tracker"]["events"] if e["event"] == "user"]
    assert said == [f"第{turn}句" for turn in range(20 - ACTION_HISTORY_MESSAGES, 20)]
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-len(ours["tracker"]["events"]) :]
    del ours["tracker"]["events"], rasas["tracker"]["events"]
    assert ours == rasas  # slots from the whole session (task-19), latest message, active form, ...
    assert ours["tracker"]["slots"]["task"] == "task-19"


def test_a_short_conversation_is_sent_whole():
    action = RemoteAction("action_confirm_task", EndpointConfig("http://127.0.0.1:5055/webhook"))
    tracker = long_conversation(3)
    assert latest_turns.action_call_format(action, tracker, DOMAIN) == latest_turns._rasa_call_format(
        action, tracker, DOMAIN
    )
