"""Shared fixtures: settings with fresh keys, and a migrated database per backend.

Database tests run on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set
(`.ci/run` sets it). Each test starts from empty tables. The action tests' fixtures are here too, for
the attacks in tests/security that go through actions; the end-to-end stack comes from tests/e2e/fixtures.py.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from bot.config import Settings
from bot.db import make_engine, make_session_factory
from bot.identity.privacy import Vault
from bot.models import Base
from bot.platform.migrate import upgrade
from tests.support import DOMAIN, make_settings

pytest_plugins = ["tests.e2e.fixtures"]  # one stack per session, shared by e2e and security tests


def _backends() -> list:
    backends = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL"):
        backends.append(pytest.param("postgres", marks=pytest.mark.postgres))
    return backends


@pytest.fixture(scope="session", params=_backends())
def database_url(request, tmp_path_factory):
    """A freshly migrated database for the whole session, one per backend.

    On PostgreSQL each run gets a schema of its own (via search_path), so two runs sharing
    TEST_DATABASE_URL do not see each other's rows.
    """
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'cards.db'}"
        upgrade(url)
        yield url
        return
    base = os.environ["TEST_DATABASE_URL"]
    schema = f"test_{os.getpid()}"
    admin = make_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    upgrade(url)
    yield url
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(database_url) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def vault(settings) -> Vault:
    return Vault(settings)


@pytest.fixture
def sessions(engine, vault):
    """A session factory over empty tables; everything written is wiped after the test."""
    yield make_session_factory(engine, vault=vault)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def session(sessions):
    """One session in a transaction that the test may commit (the tables are wiped afterwards)."""
    with sessions() as session:
        yield session


@pytest.fixture
def action_settings(settings, sessions, monkeypatch):
    """Point the action server's lazily made services at this test's database and keys."""
    from actions.runtime import services  # only for the tests that run actions

    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ID_HASH_KEY", settings.id_hash_key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", settings.data_encryption_key)
    services.cache_clear()
    yield services().settings
    services.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return DOMAIN


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say plainly what did not run and how to run it, instead of one line among the short summary's."""
    reasons: Counter[str] = Counter()
    for report in terminalreporter.stats.get("skipped", []):
        if isinstance(report.longrepr, tuple):
            reasons[report.longrepr[2].removeprefix("Skipped: ")] += 1
    deselected = len(terminalreporter.stats.get("deselected", []))
    if not reasons and not deselected:
        return
    terminalreporter.section("not run, and how to run it")
    for reason, count in reasons.most_common():
        terminalreporter.write_line(f"{count} skipped: {reason}")
    if deselected:
        terminalreporter.write_line(
            f"{deselected} deselected by -m {config.getoption('markexpr')!r}: `make test` runs them"
        )
