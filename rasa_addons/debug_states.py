"""What Rasa's debug lines show is formatted and copied only when debug lines are logged.

On every prediction Rasa 3.6's `RulePolicy` formats all past states of the conversation into one
string for a debug log line, whether or not debug lines are logged. Late in a long conversation that
was about 5% of the Rasa server's CPU (py-spy, turns 100-200, 2026-12-01).

Rasa's message processor, forms and rule and memoization policies also deep-copy what their debug
lines show (the events of each action, the slots, the policies' states, the latest message) as the
lines' arguments, so the copies are made whether or not the line is written: 3.7% of the Rasa
server's CPU under 8 concurrent conversations (py-spy, 2026-12-01). In those modules `copy` serves
nothing else (`tests/rasa_addons/test_debug_states.py` reads their source to hold that), so there it
stands for a `deepcopy` that copies only when the module's debug lines are logged and otherwise
hands the value to the line, which drops it. With debug logging on (`rasa run --debug`), every line
is as before.
"""

from __future__ import annotations

import copy
import logging
from types import ModuleType
from typing import Any

from rasa.core import processor
from rasa.core.actions import forms
from rasa.core.policies import memoization, rule_policy
from rasa.core.policies.policy import Policy
from rasa.shared.core.domain import State

_rasa_format_tracker_states = Policy.format_tracker_states
_LOGGER = logging.getLogger(rule_policy.__name__)  # structlog filters by this logger's level
# The modules whose only use of `copy` is deep copies of their debug lines' values.
COPIED_FOR_DEBUG_LINES: tuple[ModuleType, ...] = (processor, forms, memoization, rule_policy)


def format_tracker_states(states: list[State]) -> str:
    """`Policy.format_tracker_states`, or nothing when the rule policy's debug lines are not logged."""
    return _rasa_format_tracker_states(states) if _LOGGER.isEnabledFor(logging.DEBUG) else ""


class CopiesForDebugLines:
    """Stands for the `copy` module in a module whose debug lines (structlog, filtered by the
    module's logger) are its only use of it."""

    def __init__(self, module_name: str) -> None:
        self._logger = logging.getLogger(module_name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        return copy.deepcopy(value, memo) if self._logger.isEnabledFor(logging.DEBUG) else value


def install() -> None:
    """Format states and copy debug lines' values only when the lines are logged."""
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign]
    for module in COPIED_FOR_DEBUG_LINES:
        module.copy = CopiesForDebugLines(module.__name__)  # type: ignore[attr-defined]
