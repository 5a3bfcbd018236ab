"""Shared fixtures: settings with fresh keys, and a migrated database per backend.

Database tests run on SQLite always, and on PostgreSQL too when TEST_DATABASE_URL is set
(`.ci/run` sets it). Each test starts from empty tables.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.config import LossPolicy, Settings
from bot.db import make_engine, make_session_factory
from bot.migrate import upgrade
from bot.models import Base
from bot.privacy import Vault
from tests.e2e.fixtures import production_stack, stack, trained_model  # noqa: F401  (one stack per session)

NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)


def make_settings(database_url: str = "sqlite://", **policy: object) -> Settings:
    from zoneinfo import ZoneInfo

    return Settings(
        database_url=database_url,
        id_hash_key=secrets.token_hex(32),
        data_encryption_key=Fernet.generate_key().decode(),
        timezone=ZoneInfo("Asia/Shanghai"),
        loss_policy=LossPolicy(**policy),
    )


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
