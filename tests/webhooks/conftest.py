"""Flask app fixtures: the real app over the test database, with Rasa where a test says it is."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.support import free_port
from webhooks import create_app
from webhooks.settings import WebSettings

TWILIO_TOKEN = "test-twilio-auth-token"


def make_web_settings(
    settings, *, rasa_url: str | None = None, rasa_token: str = "rasa-token", actions_url: str | None = None
) -> WebSettings:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here: Rasa or actions "down"
    return WebSettings(
        core=settings,
        secret_key="s" * 32,
        rasa_url=rasa_url or closed,
        rasa_token=rasa_token,
        actions_url=actions_url or closed,
        twilio_auth_token=TWILIO_TOKEN,
        public_base_url=None,
        rasa_timeout=2.0,
    )


@pytest.fixture
def app(settings, sessions):
    return create_app({"WEB": make_web_settings(settings), "TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


def open_chat_page(client: FlaskClient) -> FlaskClient:
    """Load the chat page as a browser would and send its CSRF token with every later request."""
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


@pytest.fixture
def chat_client(client):
    return open_chat_page(client)
