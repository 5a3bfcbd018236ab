"""Fixtures for the attacks in this package: the real app over the test database."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.staff import add_staff_user
from tests.webhooks.conftest import make_web_settings
from tests.webhooks.test_staff import PASSWORD, sign_in
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


class _RecordingRasa(BaseHTTPRequestHandler):
    """Rasa's REST channel, answering every message with one text and remembering what it was sent."""

    received: list[dict]

    def do_POST(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = json.dumps([{"text": "ok"}]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_rasa():
    """(base URL, list of the request bodies it received) of a running fake Rasa."""
    received: list[dict] = []
    handler = type("Handler", (_RecordingRasa,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


# The action server's fixtures, for the attacks that go through the dialogue's actions (the running
# assistant, `stack`, is tests/conftest.py's, shared with the end-to-end tests).
from tests.actions.conftest import action_settings, dispatcher, domain  # noqa: E402,F401
