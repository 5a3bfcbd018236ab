"""Fixtures for the attacks in this package: the real app over the test database."""

from __future__ import annotations

import pytest

from bot.review.accounts import add_staff_user
from tests.support import PASSWORD, make_web_settings, recording_rasa, sign_in
from webhooks import create_app


@pytest.fixture
def staff_app(settings, sessions):
    """The web app with one reviewer account, ``li.reviewer``."""
    with sessions.begin() as db:
        add_staff_user(db, username="li.reviewer", password=PASSWORD, role="reviewer")
    return create_app({"WEB": make_web_settings(settings), "TESTING": True})


@pytest.fixture
def reviewer(staff_app):
    client = staff_app.test_client()
    assert sign_in(client, "li.reviewer").status_code == 302
    return client


@pytest.fixture
def fake_rasa():
    """(base URL, list of the request bodies it received) of a running fake Rasa."""
    with recording_rasa() as running:
        yield running
