"""Checking action server responses with a validator built once, not once per response.

Rasa 3.6 checks every response of the action server with `jsonschema.validate(result, spec)`.
That call first validates the (constant) spec itself against the JSON Schema 2020-12 metaschema,
whose dynamic references are slow to resolve: under 8 concurrent conversations it was over half
of the Rasa server's CPU (py-spy, 2026-11-29), and a turn that runs two custom actions (an
identity check and its answer) paid for it twice. The responses are checked exactly as before,
against the same spec and with the same error message, by a validator made once per process.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def _response_validator() -> Validator:
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)  # once, as jsonschema.validate would on every call
    return cls(spec)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result`, with the validator reused."""
    error = best_match(_response_validator().iter_errors(result))  # the error jsonschema.validate raises
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    """Make Rasa's remote actions (and so forms' validation actions) use the reused validator."""
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]
