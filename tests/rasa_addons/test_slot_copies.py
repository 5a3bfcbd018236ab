"""A slot copied by its attributes is what Python's generic copy made of it."""

from __future__ import annotations

import copy

import pytest
from rasa.shared.core.slots import (
    AnySlot,
    BooleanSlot,
    CategoricalSlot,
    FloatSlot,
    ListSlot,
    Slot,
    TextSlot,
)
from rasa.shared.core.trackers import DialogueStateTracker

from rasa_addons import slot_copies

SLOTS = [
    TextSlot("person_name", [], initial_value="赵敏", influence_conversation=False),
    CategoricalSlot("task", [], values=["report_loss", "check_progress"], initial_value="report_loss"),
    FloatSlot("unclear_replies", [], max_value=5.0),
    BooleanSlot("identity_locked", [], initial_value=True),
    ListSlot("cards", [], initial_value=["0001"]),
    AnySlot("session_started_metadata", [], influence_conversation=False),
]


@pytest.fixture
def installed(monkeypatch):
    monkeypatch.setattr(Slot, "__copy__", slot_copies.shallow_copy, raising=False)


@pytest.mark.parametrize("slot", SLOTS, ids=lambda slot: type(slot).__name__)
def test_the_copy_is_the_one_python_made(slot):
    generic = copy.copy(slot)
    ours = slot_copies.shallow_copy(slot)
    assert type(ours) is type(slot) and ours is not slot
    assert ours.__dict__ == generic.__dict__
    assert all(ours.__dict__[name] is value for name, value in slot.__dict__.items())  # shallow, as copy.copy


def test_a_tracker_s_slots_are_its_own(installed):
    slot = SLOTS[0]
    tracker = DialogueStateTracker("c", SLOTS)
    tracker.slots["person_name"].value = "张伟"
    assert slot.value == "赵敏"  # the domain's slot is untouched
    task = tracker.slots["task"]
    assert type(task) is CategoricalSlot and task.values == ["report_loss", "check_progress"]
