"""A conversation's tracker copied from its state, not by replaying every event of the conversation.

Rasa 3.6 copies the tracker before running each action (`MessageProcessor._run_action`, so that a
rejected action leaves no trace), two to four times a turn, and `DialogueStateTracker.copy` builds the
copy by applying every event of the conversation again to a fresh tracker: 4.8% of the Rasa server's
CPU under 8 concurrent conversations (py-spy, 2026-12-01), growing with the conversation.

A tracker's state is, by Rasa's own rule, what its events make of a fresh tracker ("MUST be
re-creatable by processing all the events"), and the trackers Rasa serves are built that way (read
from the tracker store by replaying, then changed only by events). So the copy here is a fresh
tracker given the same events and the state those events made: each slot copied, the active loop
copied (Rasa changes it in place), the rest shared or copied as the replay would have them. What a
replay leaves at its defaults (the model and assistant ids, the sender source) stays at them.
Trackers of other classes (the training's), or with a cap on their events (a replay of a capped
history need not give the state), are still copied by replaying.
"""

from __future__ import annotations

import copy

from rasa.shared.core.trackers import DialogueStateTracker

_rasa_copy = DialogueStateTracker.copy


def copy_from_state(tracker: DialogueStateTracker) -> DialogueStateTracker:
    """What `DialogueStateTracker.copy` returns, made from the tracker's state rather than its events."""
    if type(tracker) is not DialogueStateTracker or tracker._max_event_history is not None:
        return _rasa_copy(tracker)
    copied = tracker.init_copy()
    copied.events.extend(tracker.events)
    for name, slot in tracker.slots.items():
        copied.slots[name] = copy.copy(slot)
    copied._paused = tracker._paused
    copied.followup_action = tracker.followup_action
    copied.latest_action = None if tracker.latest_action is None else dict(tracker.latest_action)
    copied.latest_message = tracker.latest_message
    copied.latest_bot_utterance = tracker.latest_bot_utterance
    copied.active_loop = copy.copy(tracker.active_loop)
    return copied


def install() -> None:
    """Copy served trackers from their state."""
    DialogueStateTracker.copy = copy_from_state  # type: ignore[method-assign]
