"""Fixtures for the bot tests: the CLI's environment over a database of its own."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from bot.platform.migrate import upgrade
from bot.review.accounts import add_staff_user
from bot.review.queue import Reviewer


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> dict[str, str]:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'cards.db'}",
        "ID_HASH_KEY": "cli-test-key",
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    upgrade(env["DATABASE_URL"])
    return env


@pytest.fixture
def reviewer(session) -> Reviewer:
    user = add_staff_user(session, username="li.reviewer", password="a-long-password", role="reviewer")
    return Reviewer(user.id, user.username, user.role)
