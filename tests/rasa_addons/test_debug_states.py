"""What Rasa's debug lines show is formatted and copied only when those lines are logged."""

from __future__ import annotations

import ast
import inspect
import logging

import pytest
from rasa.core.policies.policy import Policy
from rasa.shared.core.constants import USER

from rasa_addons import debug_states
from rasa_addons.debug_states import (
    _LOGGER,
    COPIED_FOR_DEBUG_LINES,
    _rasa_format_tracker_states,
    format_tracker_states,
)

STATES = [{}, {USER: {"intent": "greet", "text": "你好"}, "prev_action": {"action_name": "action_listen"}}]


def test_nothing_is_formatted_at_the_level_rasa_serves_with(caplog):
    caplog.set_level(logging.INFO, logger=_LOGGER.name)
    assert format_tracker_states(STATES) == ""


def test_the_debug_line_is_rasas_own_when_debug_lines_are_logged(caplog):
    caplog.set_level(logging.DEBUG, logger=_LOGGER.name)
    formatted = format_tracker_states(STATES)
    assert formatted == _rasa_format_tracker_states(STATES)
    assert "user intent: greet" in formatted


@pytest.fixture
def restored(monkeypatch):
    """Rasa as it was after the test: `install` changes Rasa's classes and modules."""
    for module in COPIED_FOR_DEBUG_LINES:
        monkeypatch.setattr(module, "copy", module.copy)


def test_installed_it_stands_in_for_rasas(restored, monkeypatch, caplog):
    monkeypatch.setattr(Policy, "format_tracker_states", Policy.__dict__["format_tracker_states"])
    debug_states.install()
    caplog.set_level(logging.INFO, logger=_LOGGER.name)
    assert Policy.format_tracker_states(STATES) == ""


def copy_uses(module) -> tuple[list[ast.AST], list[ast.AST]]:
    """Every use of the name `copy` in `module`'s source, and those that are `copy.deepcopy(...)`
    passed to a `structlogger.debug(...)` line."""
    tree = ast.parse(inspect.getsource(module))
    in_debug_lines = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "structlogger.debug"
        for inner in ast.walk(node)
    }
    uses = [node for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id == "copy"]
    for_debug_lines = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "copy"
        and node.attr == "deepcopy"
        and id(node) in in_debug_lines
    ]
    return uses, [node.value for node in for_debug_lines]


@pytest.mark.parametrize("module", COPIED_FOR_DEBUG_LINES, ids=lambda module: module.__name__)
def test_in_these_rasa_modules_copy_serves_only_debug_lines(module):
    uses, for_debug_lines = copy_uses(module)
    assert uses and {id(node) for node in uses} == {id(node) for node in for_debug_lines}


@pytest.mark.parametrize("module", COPIED_FOR_DEBUG_LINES, ids=lambda module: module.__name__)
def test_debug_lines_values_are_copied_only_when_logged(module, restored, monkeypatch, caplog):
    monkeypatch.setattr(Policy, "format_tracker_states", Policy.__dict__["format_tracker_states"])
    debug_states.install()
    value = {"events": [{"event": "slot", "value": "赵敏"}]}
    caplog.set_level(logging.INFO, logger=module.__name__)
    assert module.copy.deepcopy(value) is value
    caplog.set_level(logging.DEBUG, logger=module.__name__)
    copied = module.copy.deepcopy(value)
    assert copied == value and copied is not value and copied["events"][0] is not value["events"][0]
