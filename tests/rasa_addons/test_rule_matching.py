"""The rule policy's rules read once and its shortened walk find exactly the rules Rasa's full walk finds."""

from __future__ import annotations

import random

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import SHOULD_NOT_BE_SET

from rasa_addons import rule_matching

RASAS = RulePolicy._get_possible_keys
INTENTS = ["greet", "report_loss", "check_progress", "inform", "affirm"]
ACTIONS = ["action_listen", "utter_greet", "identity_form", "action_answer_info", "confirmation_form"]


@pytest.fixture
def policy(tmp_path) -> RulePolicy:
    context = ExecutionContext(GraphSchema({}), "test")
    return RulePolicy.create(RulePolicy.get_default_config(), LocalModelStorage(tmp_path), Resource("rules"), context)


def a_state(rng: random.Random, *, first: bool = False) -> dict:
    """A state as Rasa's featurizer makes them: user, previous action, slots, active loop (some absent)."""
    state: dict = {}
    if not first:
        state["prev_action"] = {"action_name": rng.choice(ACTIONS)}
    if rng.random() < 0.6:
        state["user"] = {"intent": rng.choice(INTENTS)}
        if rng.random() < 0.3:  # a tuple (a list in a rule's JSON), sometimes empty, which constrains nothing
            state["user"]["entities"] = rng.choice([("id_number",), ("id_number", "person_name"), ()])
    if rng.random() < 0.4:
        state["slots"] = {"task": rng.choice([(1.0,), SHOULD_NOT_BE_SET])}
    if rng.random() < 0.3:
        state["active_loop"] = {"name": rng.choice(["identity_form", SHOULD_NOT_BE_SET])}
    return state


def states(rng: random.Random, length: int) -> list[dict]:
    return [a_state(rng, first=index == 0 and rng.random() < 0.5) for index in range(length)]


def test_the_same_rules_are_found_on_conversations_of_every_length(policy):
    rng = random.Random(7)
    for _ in range(300):
        rules = [states(rng, rng.randint(1, 4)) for _ in range(rng.randint(1, 25))]
        # Rules match on few features: drop most of each rule state's parts, as rules leave them out.
        for rule in rules:
            for state in rule:
                for part in [p for p in state if p != "prev_action" and rng.random() < 0.6]:
                    del state[part]
        lookup = {policy._create_feature_key(rule): "utter_greet" for rule in rules}
        lookup.pop(None, None)
        conversation = states(rng, rng.randint(0, 30))
        assert rule_matching.get_possible_keys(policy, lookup, conversation) == RASAS(policy, lookup, conversation)


def test_a_conversation_matching_its_rules_keeps_them_however_far_back_it_goes(policy):
    rule = [{"prev_action": {"action_name": "action_listen"}, "user": {"intent": "greet"}}]
    lookup = {policy._create_feature_key(rule): "utter_greet"}
    long_ago = [{"prev_action": {"action_name": "utter_greet"}, "user": {"intent": "inform"}}] * 200
    conversation = [*long_ago, *rule]
    assert rule_matching.get_possible_keys(policy, lookup, conversation) == set(lookup)
    assert rule_matching.get_possible_keys(policy, lookup, [*long_ago, long_ago[0]]) == set()
