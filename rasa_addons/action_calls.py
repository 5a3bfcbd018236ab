"""The action server is sent the latest turns of a conversation, not every event of its session.

Rasa 3.6 sends the whole session with every call to the action server (one to three calls per
turn), so each call costs more the longer the conversation: late in a long conversation, writing
that body was 12% of the Rasa server's CPU and reading it the largest part of the action server's
(py-spy, 2026-11-30). Our actions look back only a few messages (the last message as typed, the
time between the last two, a decline a message or two ago, two misunderstood messages in a row),
so each call now carries the session's events from the `ACTION_HISTORY_MESSAGES`-th last user
message on. Everything else Rasa sends (slots, the latest message, the active form) is worked out
from the whole session as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot.contract import ACTION_HISTORY_MESSAGES

_rasa_call_format = RemoteAction._action_call_format


def latest_turns(events: Sequence[Event], messages: int = ACTION_HISTORY_MESSAGES) -> list[Event]:
    """`events` from the `messages`-th last user message on; all of them if there are fewer."""
    seen = 0
    for back, event in enumerate(reversed(events), start=1):
        if isinstance(event, UserUttered):
            seen += 1
            if seen == messages:
                return list(itertools.islice(events, len(events) - back, None))
    return list(events)


class _LatestTurnsOnly:
    """A tracker whose state, as sent to the action server, lists only its latest turns' events."""

    def __init__(self, tracker: DialogueStateTracker) -> None:
        self._tracker = tracker

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tracker, name)

    def current_state(self, event_verbosity: EventVerbosity = EventVerbosity.NONE) -> dict[str, Any]:
        state = self._tracker.current_state(EventVerbosity.NONE)
        state["events"] = [event.as_dict() for event in latest_turns(self._tracker.events)]
        return state


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """`RemoteAction._action_call_format`, with the session's events cut to its latest turns."""
    return _rasa_call_format(self, _LatestTurnsOnly(tracker), domain)


def install() -> None:
    """Make calls to the action server carry the latest turns only."""
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
