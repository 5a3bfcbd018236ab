"""Event types looked up once per name, not once per event.

Rasa 3.6 turns every stored event back into an object through `Event.resolve_by_type`, which walks
the whole tree of Event subclasses (with an `inspect.isabstract` check on each) for every single
event. Reading a conversation of 300 events from the tracker store spent about 70% of its time
there, and it grows with the conversation: each turn reads the whole conversation again.
The set of event classes is fixed once Rasa is imported, so the answer for a name never changes;
`install()` puts a memo in front of Rasa's own lookup. Unknown names still go to Rasa's lookup,
which keeps its behaviour (a default, or ValueError).
"""

from __future__ import annotations

from rasa.shared.core.events import Event

_rasa_lookup = Event.resolve_by_type
_known: dict[str, type[Event]] = {}


def _resolve_by_type(type_name: str, default: type[Event] | None = None) -> type[Event] | None:
    found = _known.get(type_name)
    if found is None:
        found = _rasa_lookup(type_name, default)
        if found is not None and found is not default:
            _known[type_name] = found
    return found


def install() -> None:
    """Use the memo for every event Rasa reads from now on (idempotent)."""
    Event.resolve_by_type = staticmethod(_resolve_by_type)
