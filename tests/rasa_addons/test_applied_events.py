"""Applied events walked incrementally: always what Rasa's own walk over the events gives."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons import applied_events as module
from rasa_addons.applied_events import _rasa_applied_events, applied_events
from rasa_addons.recently_used import RecentlyUsed
from tests.rasa_addons.test_past_states import DOMAIN, events


@pytest.fixture(autouse=True)
def fresh_walks(monkeypatch):
    monkeypatch.setattr(module, "WALKS", RecentlyUsed(size=512, idle_seconds=900.0))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events, min_size=1, max_size=30))
def test_after_every_event_the_list_is_rasas_own(history):
    module.WALKS.drop("conversation")
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    assert applied_events(tracker) == []
    for event in history:
        tracker.update(event)
        assert applied_events(tracker) == _rasa_applied_events(tracker)
        assert applied_events(tracker) == _rasa_applied_events(tracker)  # asked again, unchanged
        # the next turn's tracker, read back with the same event objects, continues the same walk
        again = DialogueStateTracker.from_events("conversation", list(tracker.events), DOMAIN.slots)
        assert applied_events(again) == _rasa_applied_events(again)


def test_a_later_call_walks_only_the_events_added(monkeypatch):
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    for _ in range(5):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered("…", {"name": DOMAIN.intents[0], "confidence": 1.0}))
    applied_events(tracker)
    walked: list = []
    monkeypatch.setattr(module, "_step", lambda tracker, walk, event: walked.append(event))
    tracker.update(ActionExecuted("utter_greet"))
    applied_events(tracker)
    assert [event.action_name for event in walked] == ["utter_greet"]


def test_a_new_loop_name_walks_again_from_the_first_event():
    """Rasa's walk treats a loop's earlier executions by whether the session names that loop anywhere."""
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    for name in ("action_listen", "identity_form", "identity_form"):
        tracker.update(ActionExecuted(name))
        applied_events(tracker)
    tracker.update(ActiveLoop("identity_form"))
    assert applied_events(tracker) == _rasa_applied_events(tracker)
    assert len(applied_events(tracker)) < len(tracker.events)


def test_a_caller_changing_its_list_changes_nothing_kept():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("…", {"name": DOMAIN.intents[0], "confidence": 1.0}))
    applied_events(tracker).clear()
    assert applied_events(tracker) == _rasa_applied_events(tracker) != []


def test_events_replaced_capped_or_diverging_are_walked_again():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots, max_event_history=3)
    for name in ("action_listen", "utter_greet", "action_listen", "utter_greet"):
        tracker.update(ActionExecuted(name))  # the fourth pushes the first out: same length, new first
        assert applied_events(tracker) == _rasa_applied_events(tracker)
    tracker.events = tracker._create_events([ActionExecuted("action_listen")])  # a new event list
    assert [event.action_name for event in applied_events(tracker)] == ["action_listen"]
    # two trackers of one conversation, as Rasa copies one to run an action: each gets its own
    other = tracker.copy()
    other.update(ActionExecuted("utter_greet"))
    tracker.update(ActionExecuted("identity_form"))
    for _ in range(2):
        assert applied_events(other) == _rasa_applied_events(other)
        assert applied_events(tracker) == _rasa_applied_events(tracker)
