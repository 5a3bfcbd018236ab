"""The memo in front of Rasa's event-type lookup answers exactly as Rasa's own lookup does."""

import pytest
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

import rasa_addons.tracker_store  # noqa: F401  (installs the memo, as Rasa loading the store does)
from rasa_addons import event_types


def test_the_tracker_store_installs_the_memo():
    assert Event.resolve_by_type is event_types._resolve_by_type


def test_every_event_type_resolves_to_the_class_rasa_would_find():
    for cls in all_subclasses(Event):
        expected = event_types._rasa_lookup(cls.type_name)
        assert Event.resolve_by_type(cls.type_name) is expected
        assert Event.resolve_by_type(cls.type_name) is expected  # and again, from the memo


def test_unknown_names_keep_rasas_behaviour():
    with pytest.raises(ValueError):
        Event.resolve_by_type("no_such_event")
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    assert Event.resolve_by_type("topic") is None
    assert "no_such_event" not in event_types._known


def test_events_read_back_from_their_dicts_are_the_same_events():
    event = UserUttered("查进度", {"name": "check_progress", "confidence": 0.9})
    assert Event.from_parameters(event.as_dict()) == event
