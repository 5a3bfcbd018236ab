"""A tracker copied from its state is the tracker Rasa's copy replays from its events."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons import tracker_copies
from tests.support import rasa_domain

DOMAIN = rasa_domain()
RASA_COPY = tracker_copies._rasa_copy

forms = st.sampled_from(["identity_form", "unblock_code_form", None])
actions = st.sampled_from(["action_listen", "utter_greet", "identity_form", "action_run_task"])
intents = st.sampled_from(DOMAIN.intents[:8])
slots = st.sampled_from(["task", "id_number", "identity_locked", "unclear_replies"])
events = st.one_of(
    st.builds(ActionExecuted, actions),
    st.builds(lambda intent: UserUttered("…", {"name": intent, "confidence": 0.9}), intents),
    st.builds(lambda text: BotUttered(text), st.sampled_from(["好的", "请提供身份证号"])),
    st.builds(SlotSet, slots, st.none() | st.just(1)),
    st.builds(lambda value: SlotSet("requested_slot", value), st.sampled_from(["id_number", "person_name", None])),
    st.builds(ActiveLoop, forms),
    st.builds(LoopInterrupted, st.booleans()),
    st.builds(ActionExecutionRejected, st.sampled_from(["identity_form", "utter_greet"])),
    st.builds(FollowupAction, st.sampled_from(["utter_greet", "action_listen"])),
    st.sampled_from(
        [ActionReverted(), UserUtteranceReverted(), SessionStarted(), Restarted(), AllSlotsReset()]
        + [ConversationPaused(), ConversationResumed()]
    ),
)


def state_of(tracker: DialogueStateTracker) -> dict:
    """Everything a tracker holds, slots by their own attributes and events as the objects they are."""
    held = dict(vars(tracker))
    held["events"] = [id(event) for event in tracker.events]
    held["slots"] = {name: (type(slot), dict(vars(slot))) for name, slot in tracker.slots.items()}
    held["active_loop"] = None if tracker.active_loop is None else dict(vars(tracker.active_loop))
    held["latest_action"] = None if tracker.latest_action is None else dict(tracker.latest_action)
    return held


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=40))
def test_the_copy_holds_what_rasas_replay_makes(history):
    tracker = DialogueStateTracker.from_events("conversation", history, DOMAIN.slots)
    tracker.model_id = "model"  # set by Rasa's processor, not by events: a replay leaves it unset
    ours, rasas = tracker_copies.copy_from_state(tracker), RASA_COPY(tracker)
    assert state_of(ours) == state_of(rasas)
    assert ours.current_state() == rasas.current_state()


def test_changing_the_copy_leaves_the_tracker_as_it_was():
    tracker = DialogueStateTracker.from_events(
        "conversation", [ActiveLoop("identity_form"), SlotSet("task", "report_loss")], DOMAIN.slots
    )
    before = state_of(tracker)
    copied = tracker_copies.copy_from_state(tracker)
    copied.update(ActionExecutionRejected("identity_form"))  # changes the active loop in place
    copied.update(SlotSet("task", "check_progress"))
    assert copied.active_loop.rejected and copied.get_slot("task") == "check_progress"
    assert state_of(tracker) == before


def test_a_tracker_with_a_capped_history_is_still_copied_by_replaying(monkeypatch):
    tracker = DialogueStateTracker("conversation", DOMAIN.slots, max_event_history=2)
    for event in (SlotSet("task", "report_loss"), ActionExecuted("utter_greet"), ActionExecuted("action_listen")):
        tracker.update(event)
    assert tracker.get_slot("task") == "report_loss"  # set by an event no longer kept
    assert tracker_copies.copy_from_state(tracker).get_slot("task") is None  # as Rasa's replay has it
