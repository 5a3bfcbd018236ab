"""What Rasa sends the action server: the latest turns of a conversation, and of the domain only
what the forms' validation reads.

Rasa 3.6 sends the whole session with every call to the action server (one to three calls per
turn), so each call costs more the longer the conversation: late in a long conversation, writing
that body was 12% of the Rasa server's CPU and reading it the largest part of the action server's
(py-spy, 2026-11-30). Our actions look back only a few messages (the last message as typed, the
time between the last two, a decline a message or two ago, two misunderstood messages in a row),
so each call now carries the session's events from the `ACTION_HISTORY_MESSAGES`-th last user
message on. Everything else Rasa sends (slots, the latest message, the active form) is worked out
from the whole session as before.

The forms' validation actions (`validate_<form>`) are also sent the domain, all 59 kB of its JSON,
nine tenths of it the responses in both languages and both channels. rasa_sdk's validation reads
two parts of it: the forms (`FormValidationAction.domain_slots`, their required slots) and the slots
(`ValidationAction.global_slots`); the responses are Rasa's to fill in, never the action server's.
Sent those two parts alone, a form step's round trip to the action server took 0.6 ms less on the
action server's side (2.3 kB rather than 59 kB to read; replayed calls, 2026-12-01), besides Rasa's
writing it.
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
# What rasa_sdk's FormValidationAction and ValidationAction read of the domain they are sent.
VALIDATION_READS = ("forms", "slots")
_made_for: tuple[Domain, dict[str, Any]] | None = None  # the latest domain and its validation part


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


def validation_domain(domain: Domain) -> dict[str, Any]:
    """The parts of `domain` that rasa_sdk's form validation reads, made once per domain (model)."""
    global _made_for
    if _made_for is None or _made_for[0] is not domain:
        whole = domain.as_dict()
        _made_for = (domain, {key: whole[key] for key in VALIDATION_READS if key in whole})
    return _made_for[1]


def action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> dict[str, Any]:
    """`RemoteAction._action_call_format`, with the session's events cut to its latest turns and
    the domain, where Rasa sends it, cut to what the validation reads."""
    body = _rasa_call_format(self, _LatestTurnsOnly(tracker), domain)
    if "domain" in body:
        body["domain"] = validation_domain(domain)
    return body


def install() -> None:
    """Make calls to the action server carry the latest turns, and the validation what it reads."""
    RemoteAction._action_call_format = action_call_format  # type: ignore[method-assign]
