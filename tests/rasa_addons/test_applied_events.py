"""Applied events kept on the tracker: always what Rasa's own walk over the events gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.applied_events import _rasa_applied_events, applied_events
from tests.rasa_addons.test_past_states import DOMAIN, events


@settings(max_examples=150, deadline=None)
@given(st.lists(events, min_size=1, max_size=30))
def test_after_every_event_the_kept_list_is_rasas_own(history):
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    assert applied_events(tracker) == []
    for event in history:
        tracker.update(event)
        assert applied_events(tracker) == _rasa_applied_events(tracker)
        assert applied_events(tracker) == _rasa_applied_events(tracker)  # asked again, unchanged


def test_a_caller_changing_its_list_changes_nothing_kept():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("…", {"name": DOMAIN.intents[0], "confidence": 1.0}))
    applied_events(tracker).clear()
    assert applied_events(tracker) == _rasa_applied_events(tracker) != []


def test_events_replaced_or_capped_are_worked_out_again():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots, max_event_history=3)
    for name in ("action_listen", "utter_greet", "action_listen", "utter_greet"):
        tracker.update(ActionExecuted(name))  # the fourth pushes the first out: same length, new last
        assert applied_events(tracker) == _rasa_applied_events(tracker)
    tracker.events = tracker._create_events([ActionExecuted("action_listen")])  # a new event list
    assert applied_events(tracker) == _rasa_applied_events(tracker)
    assert [event.action_name for event in applied_events(tracker)] == ["action_listen"]
