"""The rule policy matches a conversation against rules read once, and only as far back as they reach.

Rasa 3.6's `RulePolicy` finds the rules that apply by walking back through every past state of the
conversation, keeping at each step the rules that the state at that distance does not contradict. A
rule of n states has nothing to say about states more than n steps back (`_is_rule_applicable`
answers "applicable" at once), yet the walk goes on to the start of the conversation, asking every
remaining rule again at every state: on every prediction, two or three a turn, for as long as the
conversation is. Here the walk stops once it is further back than the longest rule still in the
running, where the set of rules could no longer change (9% of the Rasa server's CPU under 8
concurrent conversations before, py-spy, 2026-12-01).

Each test of a rule against a state also started from the rule's text: Rasa reverses the rule's
cached list of states and turns its lists back into tuples on every test, four to six times a turn
for each of 112 rules (the rule search was still 7% of the Rasa server's CPU). Here each rule is
read once into the checks it makes, newest state first, with the same outcome as Rasa's test.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.domain import State

# One state of a rule: whether it has a previous action, and its (sub-state, feature, value) checks.
RuleState = tuple[bool, tuple[tuple[str, str, Any], ...]]


def _checks(rule_state: State) -> RuleState:
    """What `RulePolicy._does_rule_match_state` tests of one rule state, worked out once."""
    checks = []
    for state_type, sub_state in rule_state.items():
        for feature, value in sub_state.items():
            value = tuple(value) if isinstance(value, list) else value  # JSON turned tuples into lists
            if value:  # an empty value, other than "should not be set", constrains nothing
                checks.append((state_type, feature, value))
    return bool(rule_state.get(PREVIOUS_ACTION)), tuple(checks)


def _applies(rule_state: RuleState, state: State) -> bool:
    """`RulePolicy._is_rule_applicable` for a rule state within the rule's length."""
    rule_has_previous_action, checks = rule_state
    has_previous_action = bool(state.get(PREVIOUS_ACTION))
    if not rule_has_previous_action or not has_previous_action:
        # Both conversation starters: applicable; only one of them: not.
        return rule_has_previous_action == has_previous_action
    for state_type, feature, value in checks:
        found = state.get(state_type, {}).get(feature)
        if value == SHOULD_NOT_BE_SET:
            if found and found != SHOULD_NOT_BE_SET:
                return False
        elif found != value:
            return False
    return True


class ReadRules:
    """A rule lookup's keys with their states read into checks, newest first, longest rule first."""

    def __init__(self, lookup: dict[str, str]) -> None:
        self.lookup = lookup
        self.size = len(lookup)
        rules = [(key, tuple(map(_checks, reversed(RulePolicy._rule_key_to_state(key))))) for key in lookup]
        self.rules = sorted(rules, key=lambda rule: len(rule[1]), reverse=True)

    def reads(self, lookup: dict[str, str]) -> bool:
        return lookup is self.lookup and len(lookup) == self.size


def _read_rules(policy: RulePolicy, lookup: dict[str, str]) -> ReadRules:
    """The lookup's rules as read for this policy (the policy's lookups do not change once loaded)."""
    cache: dict[int, ReadRules] = policy.__dict__.setdefault("_read_rules", {})
    read = cache.get(id(lookup))
    if read is None or not read.reads(lookup):
        read = cache[id(lookup)] = ReadRules(lookup)
    return read


def get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """`RulePolicy._get_possible_keys`: the keys of the rules no state of the conversation contradicts."""
    possible = _read_rules(self, lookup).rules
    for back, state in enumerate(reversed(states)):
        if not possible or back >= len(possible[0][1]):  # the longest rule left ends before this state
            break
        possible = [(key, rule) for key, rule in possible if back >= len(rule) or _applies(rule[back], state)]
    return {key for key, _ in possible}


def install() -> None:
    """Make the rule policy test rules read once, and stop its walk back where no rule left could be ruled out."""
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
