"""Calls to the action server carry the latest turns' events, the validation's part of the domain, and
everything else as Rasa sends it."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.confirmation import ValidateConfirmationForm
from actions.identity import ValidateIdentityForm
from actions.unblock import ValidateUnblockCodeForm
from bot.contract import ACTION_HISTORY_MESSAGES
from rasa_addons import action_calls

PROJECT = Path(__file__).resolve().parents[2]
# As endpoints.yml has it: Rasa sends the domain to the forms' validation alone.
ENDPOINT = EndpointConfig("http://127.0.0.1:5055/webhook", enable_selective_domain=True)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # Rasa's notes on slot mappings
    DOMAIN = Domain.from_dict({"slots": {"task": {"type": "text", "mappings": [{"type": "custom"}]}}})


def long_conversation(turns: int) -> DialogueStateTracker:
    tracker = DialogueStateTracker("web-1", DOMAIN.slots)
    for turn in range(turns):
        tracker.update(ActionExecuted("action_listen"))
        tracker.update(UserUttered(f"第{turn}句", {"name": "inform", "confidence": 0.9}))
        tracker.update(SlotSet("task", f"task-{turn}"))
    return tracker


def test_the_body_lists_the_latest_turns_and_keeps_the_rest_as_rasa_has_it():
    action = RemoteAction("action_confirm_task", ENDPOINT)
    tracker = long_conversation(20)
    ours = action_calls.action_call_format(action, tracker, DOMAIN)
    rasas = action_calls._rasa_call_format(action, tracker, DOMAIN)
    said = [e["text"] for e in ours["tracker"]["events"] if e["event"] == "user"]
    assert said == [f"第{turn}句" for turn in range(20 - ACTION_HISTORY_MESSAGES, 20)]
    assert ours["tracker"]["events"] == rasas["tracker"]["events"][-len(ours["tracker"]["events"]) :]
    del ours["tracker"]["events"], rasas["tracker"]["events"]
    assert ours == rasas  # slots from the whole session (task-19), latest message, active form, ...
    assert ours["tracker"]["slots"]["task"] == "task-19"


def test_a_short_conversation_is_sent_whole():
    action = RemoteAction("action_confirm_task", ENDPOINT)
    tracker = long_conversation(3)
    assert action_calls.action_call_format(action, tracker, DOMAIN) == action_calls._rasa_call_format(
        action, tracker, DOMAIN
    )


@pytest.fixture(scope="module")
def project_domain() -> Domain:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Domain.load(PROJECT / "domain.yml")


def test_the_forms_validation_is_sent_the_forms_and_slots_alone(project_domain):
    tracker = DialogueStateTracker("web-1", project_domain.slots)
    validation = RemoteAction("validate_identity_form", ENDPOINT)
    sent = action_calls.action_call_format(validation, tracker, project_domain)["domain"]
    whole = action_calls._rasa_call_format(validation, tracker, project_domain)["domain"]
    assert set(sent) == {"forms", "slots"} and all(sent[key] == whole[key] for key in sent)
    assert len(json.dumps(sent)) < len(json.dumps(whole)) / 10
    other = action_calls.action_call_format(RemoteAction("action_answer_info", ENDPOINT), tracker, project_domain)
    assert "domain" not in other  # as Rasa sends it: only the validation needs a domain


@pytest.mark.parametrize("form", [ValidateIdentityForm, ValidateUnblockCodeForm, ValidateConfirmationForm])
def test_rasa_sdk_reads_the_same_slots_from_the_part_sent(form, project_domain):
    sent = action_calls.validation_domain(project_domain)
    whole = project_domain.as_dict()
    assert form().domain_slots(sent) == form().domain_slots(whole) != []
    assert form().global_slots(sent) == form().global_slots(whole)


def test_the_part_sent_follows_a_new_model(project_domain):
    first = action_calls.validation_domain(project_domain)
    assert action_calls.validation_domain(project_domain) is first  # made once per domain
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        other = Domain.from_dict({"forms": {"f": {"required_slots": ["task"]}}, **DOMAIN.as_dict()})
    assert action_calls.validation_domain(other)["forms"] == {"f": {"required_slots": ["task"]}}
