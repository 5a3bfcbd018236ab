"""Checking action server responses with a validator built once, not once per response.

Rasa 3.6 checks every response of the action server with `jsonschema.validate(result, spec)`.
That call first validates the (constant) spec itself against the JSON Schema 2020-12 metaschema,
whose dynamic references are slow to resolve: under 8 concurrent conversations it was over half
of the Rasa server's CPU (py-spy, 2026-11-29), and a turn that runs two custom actions (an
identity check and its answer) paid for it twice. The responses are checked exactly as before,
against the same spec and with the same error message, by a validator made once per process.

Even so, that check was 5% of the Rasa server's CPU under 8 concurrent conversations (py-spy,
2026-11-30): the spec says each event is exactly one of 23 event kinds (`oneOf`), so every event
was tried against all 23, and each failed try built an error. Every kind is told apart by a
constant `event` name, so an event can only ever match the kinds of its own name: a response is
first checked against those alone. A response that passes is valid under the whole spec too; one
that does not is checked again against the whole spec, which decides and gives Rasa's own error.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@dataclass(frozen=True)
class _Checks:
    """The whole spec, the spec without its choice of event kind, and each kind's part by event name."""

    whole: Validator
    outline: Validator
    kinds: dict[str, list[Validator]]

    def passes(self, result: Any) -> bool:
        """Whether `result` is valid: an outline that holds and each event exactly one kind of its name."""
        if not self.outline.is_valid(result):
            return False
        for event in result.get("events", ()):
            if sum(kind.is_valid(event) for kind in self.kinds.get(event["event"], ())) != 1:
                return False
        return True


@lru_cache(maxsize=1)
def _checks() -> _Checks:
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)  # once, as jsonschema.validate would on every call
    outline = copy.deepcopy(spec)
    kinds: dict[str, list[Validator]] = defaultdict(list)
    for kind in outline["properties"]["events"]["items"].pop("oneOf"):
        kinds[kind["properties"]["event"]["const"]].append(cls(kind))
    return _Checks(cls(spec), cls(outline), dict(kinds))


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    """`RemoteAction._validate_action_result`, with the validators reused."""
    checks = _checks()
    if checks.passes(result):
        return True
    error = best_match(checks.whole.iter_errors(result))  # the error jsonschema.validate raises
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
