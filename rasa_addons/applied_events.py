"""A tracker's applied events worked out once for each state of its event list, not on every ask.

`DialogueStateTracker.applied_events` walks the whole session (undoing reverted events) each time
it is called, and within one turn Rasa calls it for every policy's states, for the session's expiry
and more, while the events have not changed in between. Profiling turns 60-120 of one conversation
(py-spy, 2026-11-30) put it at 18% of the Rasa server's CPU. Here the result is kept on the tracker
with what it was worked out from (the event list, its length, its first and last events, all still
alive on the tracker); any change to the events works it out again. Each call gets its own copy of
the list, as before.
"""

from __future__ import annotations

from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker

_rasa_applied_events = DialogueStateTracker.applied_events
_KEPT = "_applied_events_kept"


def applied_events(self: DialogueStateTracker) -> list[Event]:
    """`DialogueStateTracker.applied_events`, reused while the tracker's events stay as they were."""
    events = self.events
    key = (id(events), len(events), id(events[0]) if events else None, id(events[-1]) if events else None)
    kept = self.__dict__.get(_KEPT)
    if kept is None or kept[0] != key:
        kept = (key, _rasa_applied_events(self))
        self.__dict__[_KEPT] = kept
    return list(kept[1])


def install() -> None:
    """Make trackers keep their applied events between calls."""
    DialogueStateTracker.applied_events = applied_events  # type: ignore[method-assign]
