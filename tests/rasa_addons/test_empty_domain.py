"""A domain is empty exactly when Rasa's own check says so, without building an empty domain per call."""

from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain

from rasa_addons import empty_domain
from tests.support import rasa_domain

RASA_IS_EMPTY = Domain.is_empty


@pytest.mark.parametrize(
    "domain",
    [Domain.empty(), Domain.from_dict({}), Domain.from_dict({"intents": ["greet"]}), Domain.from_dict({"slots": {}})],
    ids=["empty", "from nothing", "one intent", "no slots"],
)
def test_the_answer_is_rasas(domain):
    assert empty_domain.is_empty(domain) == RASA_IS_EMPTY(domain)


def test_the_served_domain_is_not_empty_and_no_empty_domain_is_built_to_say_so(monkeypatch):
    domain = rasa_domain()
    assert empty_domain.is_empty(domain) is RASA_IS_EMPTY(domain) is False

    def built() -> Domain:
        raise AssertionError("an empty domain was built")

    monkeypatch.setattr(Domain, "empty", staticmethod(built))
    assert [empty_domain.is_empty(domain) for _ in range(3)] == [False] * 3


def test_rasa_runs_with_it_installed(monkeypatch):
    monkeypatch.setattr(Domain, "is_empty", Domain.is_empty)  # restored after the test
    empty_domain.install()
    assert Domain.is_empty is empty_domain.is_empty
    assert Domain.empty().is_empty() and not rasa_domain().is_empty()
