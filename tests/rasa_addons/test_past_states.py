"""Past states replayed incrementally: the same lists as Rasa's full replay, event by event and turn by turn."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa.core.featurizers.tracker_featurizers import MaxHistoryTrackerFeaturizer
from rasa.shared.core.constants import USER
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    FollowupAction,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons import past_states
from rasa_addons.recently_used import RecentlyUsed
from tests.support import rasa_domain

DOMAIN = rasa_domain()
RASA_STATES = Domain.states_for_tracker_history
RULE_ONLY = {"rule_only_slots": ["requested_slot", "task"], "rule_only_loops": ["unblock_code_form"]}
OPTIONS = [
    {},
    {"omit_unset_slots": True},
    {"ignore_rule_only_turns": True},
    {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
]

intents = st.sampled_from(DOMAIN.intents[:12])
actions = st.sampled_from(["action_listen", "utter_greet", "identity_form", "unblock_code_form", "action_run_task"])
events = st.one_of(
    st.builds(lambda name, hide: ActionExecuted(name, hide_rule_turn=hide), actions, st.booleans()),
    st.builds(lambda intent: UserUttered("…", {"name": intent, "confidence": 1.0}), intents),
    st.builds(lambda value: SlotSet("task", value), st.sampled_from(["report_loss", "progress", None])),
    st.builds(lambda value: SlotSet("requested_slot", value), st.sampled_from(["id_number", "person_name", None])),
    st.builds(ActiveLoop, st.sampled_from(["identity_form", "unblock_code_form", None])),
    st.builds(FollowupAction, st.sampled_from(["utter_greet", "action_listen"])),
    st.sampled_from([ActionReverted(), UserUtteranceReverted(), SessionStarted()]),
)


@pytest.fixture(autouse=True)
def fresh_replays(monkeypatch):
    monkeypatch.setattr(past_states, "REPLAYS", RecentlyUsed(size=1536, idle_seconds=900.0))


def replayed(tracker: DialogueStateTracker, options: dict) -> list:
    return past_states.states_for_tracker_history(DOMAIN, tracker, **options)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(events, min_size=1, max_size=30), st.sampled_from(OPTIONS))
def test_every_prefix_of_a_conversation_gives_rasas_own_states(history, options):
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    for event in history:
        tracker.update(event)
        assert replayed(tracker, options) == RASA_STATES(DOMAIN, tracker, **options)
        # the next turn's tracker, read back with the same event objects, continues the same replay
        again = DialogueStateTracker.from_events("conversation", list(tracker.events), DOMAIN.slots)
        assert replayed(again, options) == RASA_STATES(DOMAIN, again, **options)


def turn(tracker: DialogueStateTracker, intent: str) -> None:
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("…", {"name": intent, "confidence": 1.0}))
    tracker.update(ActionExecuted("utter_greet"))


def test_changing_the_list_handed_out_changes_nothing_kept():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    for _ in range(3):
        turn(tracker, DOMAIN.intents[0])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("…", {"name": DOMAIN.intents[1], "confidence": 1.0}))
    options = {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY}
    expected = RASA_STATES(DOMAIN, tracker, **options)
    for use_text in (True, False):  # what Rasa's featurizer does with the lists at prediction
        MaxHistoryTrackerFeaturizer()._choose_last_user_input([replayed(tracker, options)], use_text)
        assert replayed(tracker, options) == expected
    handed_out = replayed(tracker, options)
    for state in handed_out:  # and more than it does
        state.get(USER, {}).clear()
        state.clear()
    assert replayed(tracker, options) == expected


def test_a_different_history_under_the_same_conversation_starts_again():
    tracker = DialogueStateTracker("conversation", DOMAIN.slots)
    turn(tracker, DOMAIN.intents[0])
    replayed(tracker, {})
    other = DialogueStateTracker("conversation", DOMAIN.slots)  # e.g. read back whole from the database
    turn(other, DOMAIN.intents[2])
    assert replayed(other, {}) == RASA_STATES(DOMAIN, other)


def test_conversations_and_options_are_kept_apart():
    first, second = (DialogueStateTracker(name, DOMAIN.slots) for name in ("first", "second"))
    turn(first, DOMAIN.intents[0])
    turn(second, DOMAIN.intents[3])
    for options in OPTIONS:
        for tracker in (first, second, first):
            assert replayed(tracker, options) == RASA_STATES(DOMAIN, tracker, **options)


def test_replays_are_kept_for_three_option_sets_of_as_many_conversations_as_the_store_reads():
    assert (past_states.REPLAYS.size, past_states.REPLAYS.idle_seconds) == (3 * 512, 900.0)
