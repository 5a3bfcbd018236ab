"""Action server responses are checked as Rasa checks them, with a validator built once."""

import jsonschema
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction

from rasa_addons import action_responses

RESPONSES = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "task", "value": "report_loss"}], "responses": [{"text": "好的"}]},
    {"events": [{"event": "slot", "name": "task"}]},  # no value: Rasa's schema allows it
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
    {"events": [], "responses": "not a list"},
    # each event is checked against the kind its name gives, and only that kind
    {"events": [{"event": "bot", "text": "您好"}, {"event": "active_loop", "name": None}, {"event": "restart"}]},
    {"events": [{"event": "slot", "value": "no name"}]},
    {"events": [{"event": "slot", "name": 7, "value": 1}]},
    {"events": [{"event": "user", "text": "丢了", "parse_data": "not an object"}]},
    {"events": [{"event": "user", "parse_data": {"entities": [{"entity": "id_number"}]}}]},
    {"events": [{"event": "action", "name": "utter_greet", "confidence": "high"}]},
    {"events": [{"event": "bot", "timestamp": "yesterday"}]},
    {"events": [{"name": "task", "value": "x"}]},  # no event name
    {"events": [{"event": 3}]},
    {"events": ["slot"]},
    {"events": [{"event": "slot", "name": "task", "value": "x"}, {"event": "followup", "name": "x"}, None]},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("response", RESPONSES)
def test_same_verdict_and_error_as_rasas_own_check(response):
    spec = RemoteAction.action_response_format_spec()
    try:
        jsonschema.validate(response, spec)
        expected = None
    except ValidationError as error:
        expected = error.message
    if expected is None:
        assert action_responses.validate_action_result(None, response) is True
    else:
        with pytest.raises(ValidationError) as raised:
            action_responses.validate_action_result(None, response)
        assert raised.value.message.startswith(expected) and "Action server response" in raised.value.message


def test_install_makes_remote_actions_use_it(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    action_responses.install()
    assert RemoteAction._validate_action_result is action_responses.validate_action_result
