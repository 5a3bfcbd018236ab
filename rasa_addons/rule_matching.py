"""The rule policy stops matching rules against a conversation where its longest rule ends.

Rasa 3.6's `RulePolicy` finds the rules that apply by walking back through every past state of the
conversation, keeping at each step the rules that the state at that distance does not contradict. A
rule of n states has nothing to say about states more than n steps back (`_is_rule_applicable`
answers "applicable" at once), yet the walk goes on to the start of the conversation, asking every
remaining rule again at every state: on every prediction, two or three a turn, for as long as the
conversation is. Under 8 concurrent conversations that walk was 9% of the Rasa server's CPU (py-spy,
2026-12-01), and it grew with each turn. Here the walk stops once it is further back than the
longest rule still in the running, where the set of rules could no longer change: the same rules are
found, from the same states, by Rasa's own test.
"""

from __future__ import annotations

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.domain import State


def get_possible_keys(self: RulePolicy, lookup: dict[str, str], states: list[State]) -> set[str]:
    """`RulePolicy._get_possible_keys`, without the steps past the longest rule that could still apply."""
    possible = set(lookup)
    for back, state in enumerate(reversed(states)):
        if not possible or back >= max(len(self._rule_key_to_state(key)) for key in possible):
            break
        possible = {key for key in possible if self._is_rule_applicable(key, back, state)}
    return possible


def install() -> None:
    """Make the rule policy stop its walk back where no rule left could be ruled out."""
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]
