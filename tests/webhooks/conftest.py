"""Flask app fixtures: the real app over the test database, with Rasa where a test says it is."""

from __future__ import annotations

import pytest

from tests.support import make_web_settings, open_chat_page
from webhooks import create_app


@pytest.fixture
def app(settings, sessions):
    return create_app({"WEB": make_web_settings(settings), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def chat_client(client):
    return open_chat_page(client)
