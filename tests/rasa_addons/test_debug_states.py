"""The rule policy's states are formatted for its debug line only when that line is logged."""

from __future__ import annotations

import logging

from rasa.core.policies.policy import Policy
from rasa.shared.core.constants import USER

from rasa_addons.debug_states import _LOGGER, _rasa_format_tracker_states, format_tracker_states

STATES = [{}, {USER: {"intent": "greet", "text": "你好"}, "prev_action": {"action_name": "action_listen"}}]


def test_nothing_is_formatted_at_the_level_rasa_serves_with(caplog):
    caplog.set_level(logging.INFO, logger=_LOGGER.name)
    assert format_tracker_states(STATES) == ""


def test_the_debug_line_is_rasas_own_when_debug_lines_are_logged(caplog):
    caplog.set_level(logging.DEBUG, logger=_LOGGER.name)
    formatted = format_tracker_states(STATES)
    assert formatted == _rasa_format_tracker_states(STATES)
    assert "user intent: greet" in formatted


def test_installed_it_stands_in_for_rasas(monkeypatch, caplog):
    from rasa_addons import debug_states

    monkeypatch.setattr(Policy, "format_tracker_states", Policy.__dict__["format_tracker_states"])
    debug_states.install()
    caplog.set_level(logging.INFO, logger=_LOGGER.name)
    assert Policy.format_tracker_states(STATES) == ""
