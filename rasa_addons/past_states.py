"""A conversation's past states worked out once per event, not again for every prediction.

Rasa's policies see a conversation as the list of its states, one per action taken so far.
`Domain.states_for_tracker_history` builds that list by replaying every event of the session from
the start, and Rasa 3.6 calls it several times per prediction (the rule policy and the memoization
policy, each for its own options) and predicts two to four times per turn. So every turn costs more
than the last: 0.3 ms per call for a session of 30 events, 5.6 ms for one of 300.

Here each conversation keeps, per set of options, the replay where it stopped: the states of the
events already seen, the replayed tracker, and the two values the loop carries. A later call, in
the same turn or the next, replays only the events added since; the state after the last event is
kept too, until another event comes (after a message the rule policy asks for it twice, with the
message's text and with its intent). The events must be the very
objects replayed before (the tracker store hands out the same objects for what it has read);
otherwise, as after an undo or a new session, the replay starts again from the first event. Callers
change the lists they get (Rasa drops the intent or the text of user states), so each call returns
a copy of what they change, with the sharing between states that Rasa's own list has.
"""

from __future__ import annotations

import operator
import weakref
from dataclasses import dataclass, field
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION, USER
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.recently_used import RecentlyUsed

Options = tuple[int, bool, bool, str]  # the domain's id, omit_unset_slots, ignore_rule_only_turns, rule-only data


@dataclass
class Replay:
    """How far one replay of a conversation's applied events has got."""

    domain: weakref.ReferenceType[Domain]
    tracker: DialogueStateTracker  # the events so far applied to a fresh copy
    events: list[Event] = field(default_factory=list)
    states: list[State] = field(default_factory=list)  # one per ActionExecuted in `events`
    last_ml_action: dict[str, Any] | None = None
    turn_was_hidden: bool = False
    # The state after the last event, worked out for `last_for` events (-1: not yet).
    last: State | None = None
    last_for: int = -1

    def continues(self, applied: list[Event]) -> bool:
        """Whether `applied` starts with exactly the events replayed so far."""
        return len(applied) >= len(self.events) and all(map(operator.is_, applied, self.events))


# Three sets of options for each of as many conversations as the tracker store keeps, as long.
REPLAYS: RecentlyUsed[tuple[str, Options], Replay] = RecentlyUsed(size=1536, idle_seconds=900.0)


def _state(
    domain: Domain,
    tracker: DialogueStateTracker,
    replay: Replay,
    hidden: bool,
    omit_unset_slots: bool,
    ignore_rule_only_turns: bool,
    rule_only_data: dict[str, Any] | None,
) -> State | None:
    """The loop body of `Domain.states_for_tracker_history` for one prior tracker; None where it skips.

    Updates the replay's carried values as that loop does; the caller decides whether to keep them.
    """
    if ignore_rule_only_turns:
        if not replay.turn_was_hidden:
            replay.last_ml_action = domain._get_prev_action_sub_state(tracker)
        if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
            replay.turn_was_hidden = hidden
        if replay.turn_was_hidden:
            return None
    state = domain.get_active_state(tracker, omit_unset_slots=omit_unset_slots)
    if ignore_rule_only_turns:
        domain._remove_rule_only_features(state, rule_only_data)
        if replay.states:
            domain._substitute_rule_only_user_input(state, replay.states[-1])
        if replay.last_ml_action:
            state[PREVIOUS_ACTION] = replay.last_ml_action
    return domain._clean_state(state)


def _copied(states: list[State]) -> list[State]:
    """`states` with every state and every user sub-state copied, shared user sub-states still shared.

    Rasa's featurizers change only user sub-states of the list they get (they drop the text, the
    intent or the entities: `_choose_last_user_input`, `_remove_user_text_if_intent`), so the other
    sub-states (previous action, slots, active loop) are handed out as kept: copying them too was
    most of the cost of a call late in a long conversation.
    """
    users: dict[int, dict] = {}
    result = []
    for state in states:
        copied = dict(state)
        user = state.get(USER)
        if user is not None:
            twin = users.get(id(user))
            if twin is None:
                twin = users[id(user)] = dict(user)
            copied[USER] = twin
        result.append(copied)
    return result


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """`Domain.states_for_tracker_history`, replaying only the events added since the last call."""
    options = (id(self), omit_unset_slots, ignore_rule_only_turns, repr(rule_only_data))
    key = (tracker.sender_id, options)
    applied = tracker.applied_events()
    replay = REPLAYS.get(key)
    if replay is None or replay.domain() is not self or not replay.continues(applied):
        replay = Replay(weakref.ref(self), tracker.init_copy())
    flags = (omit_unset_slots, ignore_rule_only_turns, rule_only_data)
    for event in applied[len(replay.events) :]:
        if isinstance(event, ActionExecuted):
            state = _state(self, replay.tracker, replay, event.hide_rule_turn, *flags)
            if state is not None:
                replay.states.append(state)
        replay.tracker.update(event)
        replay.events.append(event)
    REPLAYS.put(key, replay)
    if replay.last_for != len(replay.events):
        # The state after the last event changes with the next event, so it is worked out on a
        # scratch copy, and kept only until then (the rule policy asks twice after a message).
        carried = (replay.last_ml_action, replay.turn_was_hidden)
        scratch = Replay(replay.domain, replay.tracker, [], replay.states, *carried)
        replay.last, replay.last_for = _state(self, replay.tracker, scratch, False, *flags), len(replay.events)
    return _copied(replay.states if replay.last is None else [*replay.states, replay.last])


def install() -> None:
    """Make the served model's policies compute past states incrementally."""
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]
