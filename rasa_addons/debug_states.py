"""The rule policy's debug line of a conversation's states, written out only when it is logged.

On every prediction Rasa 3.6's `RulePolicy` formats all past states of the conversation into one
string for a debug log line, whether or not debug lines are logged. Late in a long conversation that
was about 5% of the Rasa server's CPU (py-spy, turns 100-200, 2026-12-01). With debug logging on
(`rasa run --debug`), the line is as before.
"""

from __future__ import annotations

import logging

from rasa.core.policies import rule_policy
from rasa.core.policies.policy import Policy
from rasa.shared.core.domain import State

_rasa_format_tracker_states = Policy.format_tracker_states
_LOGGER = logging.getLogger(rule_policy.__name__)  # structlog filters by this logger's level


def format_tracker_states(states: list[State]) -> str:
    """`Policy.format_tracker_states`, or nothing when the rule policy's debug lines are not logged."""
    return _rasa_format_tracker_states(states) if _LOGGER.isEnabledFor(logging.DEBUG) else ""


def install() -> None:
    """Format states for the debug line only when it is logged."""
    Policy.format_tracker_states = staticmethod(format_tracker_states)  # type: ignore[method-assign]
