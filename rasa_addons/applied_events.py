"""A conversation's applied events worked out as its events grow, not again from the first on every ask.

`DialogueStateTracker.applied_events` walks the whole session (undoing reverted events) each time
it is called. Within one turn Rasa calls it for every policy's states, for the session's expiry
and more, while new events are appended in between; and every turn's tracker is read afresh from
the tracker store. Profiling turns 60-120 of one conversation (py-spy, 2026-11-30) put it at 18% of
the Rasa server's CPU, and on turns 100-200 (2026-12-01) it still grew with the conversation.

Here each conversation keeps the walk where it stopped: the events walked (the very objects: the
tracker store hands out the same objects for what it has read) and the applied events so far. A
later call whose events start with those walks only the events added since. Rasa's walk looks at
the names of all the session's loops, so a new loop name among the added events, or events that
do not continue the walk (another session, an undo by a shorter list), start it again from the
first event. Each call gets its own copy of the list, as before.
"""

from __future__ import annotations

import itertools
import operator
from dataclasses import dataclass, field

from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons.recently_used import RecentlyUsed

_rasa_applied_events = DialogueStateTracker.applied_events


@dataclass
class Walk:
    """How far the walk over one conversation's events has got."""

    events: list[Event] = field(default_factory=list)
    loop_names: set[str] = field(default_factory=set)
    applied: list[Event] = field(default_factory=list)


# As many conversations as the tracker store keeps, as long.
WALKS: RecentlyUsed[str, Walk] = RecentlyUsed(size=512, idle_seconds=900.0)


def _loop_names(events) -> set[str]:
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _step(tracker: DialogueStateTracker, walk: Walk, event: Event) -> None:
    """One step of Rasa's walk in `DialogueStateTracker.applied_events`, on `walk.applied`."""
    applied = walk.applied
    if isinstance(event, (Restarted, SessionStarted)):
        applied.clear()
    elif isinstance(event, ActionReverted):
        tracker._undo_till_previous(ActionExecuted, applied)
    elif isinstance(event, UserUtteranceReverted):
        tracker._undo_till_previous(UserUttered, applied)
        tracker._undo_till_previous(ActionExecuted, applied)
    elif (
        isinstance(event, ActionExecuted)
        and event.action_name in walk.loop_names
        and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)
    ):
        tracker._undo_till_previous_loop_execution(event.action_name, applied)
    else:
        applied.append(event)


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """`DialogueStateTracker.applied_events`, walking only the events added since the last call."""
    events = self.events
    walk = WALKS.get(self.sender_id)
    walked = len(walk.events) if walk is not None else 0
    continues = (
        walk is not None
        and len(events) >= walked
        and all(map(operator.is_, itertools.islice(events, walked), walk.events))
    )
    added = list(itertools.islice(events, walked, None)) if continues else list(events)
    if walk is None or not continues or not _loop_names(added) <= walk.loop_names:
        walk, added = Walk(loop_names=_loop_names(events)), list(events)
    for event in added:
        _step(self, walk, event)
    walk.events.extend(added)
    WALKS.put(self.sender_id, walk)
    return list(walk.applied)


def install() -> None:
    """Make trackers work out their applied events from where the last call stopped."""
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
