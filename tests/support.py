"""Helpers shared by the test packages: settings, trackers, signed requests, fakes, the CLI.

Fixtures live in the conftest files; what a test module needs from another one lives here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from cryptography.fernet import Fernet
from flask.testing import FlaskClient
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.engine import Engine
from twilio.request_validator import RequestValidator

from bot.channels.signed import CHANNEL_NAME
from bot.cli import main
from bot.config import ROOT, LossPolicy, Settings
from bot.models import Base
from tests.factories import HEADER_LINE, ID_ZHANG
from webhooks.settings import WebSettings

# Debian's Chromium, driven by Playwright in the browser tests.
CHROMIUM = Path("/usr/bin/chromium")
# Headless as root, and no calls home (this machine's network is closed).
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def recording_rasa(
    reply: str = "ok", *, answer: list[dict] | Callable[[dict], list[dict]] | None = None
) -> Iterator[tuple[str, list[dict]]]:
    """A running fake of Rasa's input channel: (base URL, the request bodies it received, in order).

    It answers every message with one text, whatever the path, so the web app's turns go through;
    or with the messages in `answer`, or with what `answer` makes of the request body.
    """
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            answered = answer(received[-1]) if callable(answer) else answer
            body = json.dumps([{"text": reply}] if answered is None else answered).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", received
    finally:
        server.shutdown()
        server.server_close()


def database_rows(engine: Engine) -> dict[str, list[tuple]]:
    """Every row of every table of the card database, to compare before and after a refused request:
    a refusal changes nothing (no card, loss report, flag, outbox message, attempt or audit entry)."""
    with engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in Base.metadata.sorted_tables
        }


NOW = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.timezone.utc)


def make_settings(database_url: str = "sqlite://", **policy: object) -> Settings:
    """Core settings over `database_url` with fresh keys, and the loss policy's defaults unless given."""
    return Settings(
        database_url=database_url,
        id_hash_key=secrets.token_hex(32),
        data_encryption_key=Fernet.generate_key().decode(),
        timezone=ZoneInfo("Asia/Shanghai"),
        loss_policy=LossPolicy(**policy),
    )


DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


def make_tracker(
    slots: dict[str, Any] | None = None,
    *,
    intent: str = "inform",
    text: str = "",
    events: list[dict[str, Any]] | None = None,
    sender_id: str = "conv-1",
    metadata: dict[str, Any] | None = None,
    input_channel: str = CHANNEL_NAME,
    active_loop: str | None = None,
    entities: list[dict[str, Any]] | None = None,
) -> Tracker:
    """A tracker as the action server receives it (a fresh one per call: nothing leaks between tests).

    Without `events`, the latest message is the one user event, received on `input_channel` (by
    default the web app's signed channel, whose metadata the actions believe).
    """
    all_slots = {name: None for name in DOMAIN["slots"]}
    all_slots["language"] = "zh"
    all_slots.update(slots or {})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.99},
        "entities": entities or [],
        "metadata": metadata or {},
    }
    return Tracker.from_dict(
        {
            "sender_id": sender_id,
            "slots": all_slots,
            "latest_message": latest,
            "events": events
            if events is not None
            else [{"event": "user", "text": text, "input_channel": input_channel}],
            "active_loop": {"name": active_loop} if active_loop else {},
            "latest_action_name": "action_listen",
        }
    )


def responses(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["response"] for m in dispatcher.messages]


def markers(dispatcher: CollectingDispatcher) -> list[dict]:
    return [m["custom"] for m in dispatcher.messages if m.get("custom")]


VERIFIED = {"verified_id_number": ID_ZHANG}


JUST_ASKED = [
    {"event": "action", "name": "identity_form"},
    {"event": "action", "name": "confirmation_form"},
    {"event": "action", "name": "action_listen"},
    {"event": "user", "text": "确认"},
    {"event": "action", "name": "confirmation_form"},
]


def answering_question(pending: str, events: list | None = None):
    """A yes that confirmation_form just read, for the change `pending`."""
    slots = {**VERIFIED, "awaiting_confirmation": pending, "confirmation_reply": "confirmed"}
    return make_tracker(slots, intent="affirm", events=JUST_ASKED if events is None else events)


TWILIO_TOKEN = "test-twilio-auth-token"
SMS_URL = "http://localhost/twilio/sms"


def make_web_settings(
    settings, *, rasa_url: str | None = None, rasa_token: str = "rasa-token", actions_url: str | None = None
) -> WebSettings:
    """The web app's settings over core `settings`; Rasa and the action server are down unless given.

    The tracker store is an empty file of its own, never the project's var/tracker.db.
    """
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here: Rasa or actions "down"
    tracker_db = Path(tempfile.mkdtemp(prefix="tracker-")) / "tracker.db"
    return WebSettings(
        core=settings,
        secret_key="s" * 32,
        rasa_url=rasa_url or closed,
        rasa_token=rasa_token,
        actions_url=actions_url or closed,
        twilio_auth_token=TWILIO_TOKEN,
        public_base_url=None,
        rasa_timeout=2.0,
        tracker_store_url=f"sqlite:///{tracker_db}",
    )


def open_chat_page(client: FlaskClient) -> FlaskClient:
    """Load the chat page as a browser would and send its CSRF token with every later request."""
    page = client.get("/").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.environ_base["HTTP_X_CSRFTOKEN"] = token
    return client


def signed(form: dict, url: str = SMS_URL) -> dict:
    """The X-Twilio-Signature header Twilio would send with `form` posted to `url`."""
    return {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)}


def signed_transport(stack: Any, **web_settings: Any) -> Callable[[str, dict], tuple[int, str]]:
    """Signed Twilio requests to the web app in-process over a running assistant (`stack`), with the
    web settings given: (status, body) per (path, form), as the call simulator takes them."""
    from bot.config import load_settings
    from webhooks import create_app

    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    for name, value in web_settings.items():
        setattr(web, name, value)
    client = create_app({"WEB": web, "TESTING": True}).test_client()

    def transport(path: str, form: dict) -> tuple[int, str]:
        response = client.post(path, data=form, headers=signed(form, "http://localhost" + path))
        return response.status_code, response.get_data(as_text=True)

    return transport


CALL = {"CallSid": "CA0123456789abcdef", "From": "+8613900001001", "To": "+861012345678"}


def post(client, path: str, form: dict, *, sign: bool = True):
    """POST `form` to a Twilio webhook of the test client, signed as Twilio would unless `sign` is False."""
    url = "http://localhost" + path
    headers = {"X-Twilio-Signature": RequestValidator(TWILIO_TOKEN).compute_signature(url, form)} if sign else {}
    return client.post(path, data=form, headers=headers)


PASSWORD = "correct horse battery"


def token(client, path: str = "/staff/login") -> str:
    """The CSRF token of a console page's form."""
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


def sign_in(client, username: str, password: str = PASSWORD, **kwargs):
    """Sign a test client in to the staff console."""
    return client.post(
        "/staff/login",
        data={"username": username, "password": password, "csrf_token": token(client)},
        **kwargs,
    )


@contextmanager
def naming_rasa(name: str, received: list[str], delay: float = 0.0, answer: bytes | None = None) -> Iterator[str]:
    """A REST channel that answers with its own name (or `answer`) and records each message it got,
    with the user of any basic auth it came with."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            message = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["message"]
            auth = self.headers.get("Authorization", "")
            user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
            received.append(f"{name}:{message}" + (f" as {user}" if user else ""))
            time.sleep(delay)
            body = json.dumps([{"recipient_id": "x", "text": name}]).encode() if answer is None else answer
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            body = json.dumps({"model_file": f"{name}.tar.gz"}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request, client_address):
            pass  # the slow server writes to a client that gave up: expected here

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """`python -m bot ARGV` in-process: (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write_csv(tmp_path: Path, *rows: str, name: str = "cards.csv") -> Path:
    """An import file with the header and `rows`."""
    path = tmp_path / name
    path.write_text("\n".join([HEADER_LINE, *rows]) + "\n", encoding="utf-8")
    return path


# The domain (DOMAIN above) as Rasa reads its responses: which variant a language and channel get.
LANGUAGES = ("zh", "en")


def chosen_variants(name: str, language: str, voice: bool) -> list[dict]:
    """The variants Rasa picks from for a response in a language, on the phone or not.

    Rasa's order (rasa.core.nlg.generator.ResponseVariationFilter): of the variants whose
    conditions all hold, those for the channel, with a condition before without; then those for
    no channel, with a condition before without. tests/test_domain.py holds this to Rasa's own.
    """
    channel = "voice" if voice else "chat"
    options = DOMAIN["responses"][name]

    def holds(option: dict) -> bool:
        return all({"language": language}.get(c["name"]) == c["value"] for c in option.get("condition") or [])

    for for_channel, conditional in ((channel, True), (channel, False), (None, True), (None, False)):
        found = [
            o
            for o in options
            if o.get("channel") == for_channel and bool(o.get("condition")) == conditional and holds(o)
        ]
        if found:
            return found
    return []


def chosen(name: str, language: str, voice: bool) -> list[str]:
    """The texts Rasa picks from for a response."""
    return [o["text"] for o in chosen_variants(name, language, voice)]


def buttons(name: str, language: str, voice: bool = False) -> list[dict]:
    """The choices a response offers as buttons in a language and channel."""
    (variant,) = chosen_variants(name, language, voice)
    return variant.get("buttons", [])


def redis_for_tests() -> tuple[str, int]:
    """The host and port of the Redis the production tests use; skips (fails where
    REQUIRE_PRODUCTION_TESTS is set, as in CI) when it does not answer."""
    import pytest
    import redis

    host = os.environ.get("PRODUCTION_TEST_REDIS_HOST", "127.0.0.1")
    port = int(os.environ.get("PRODUCTION_TEST_REDIS_PORT", "6379"))
    try:
        redis.Redis(host=host, port=port, socket_timeout=3).ping()
    except redis.RedisError as error:
        if os.environ.get("REQUIRE_PRODUCTION_TESTS"):
            pytest.fail(f"Redis at {host}:{port} is required: {type(error).__name__}")
        pytest.skip(f"Redis at {host}:{port} is not reachable ({type(error).__name__})")
    return host, port


def rasa_domain():
    """The assistant's domain.yml as Rasa loads it (without Rasa's notes on its slot mappings)."""
    import warnings

    from rasa.shared.core.domain import Domain

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Domain.load(ROOT / "domain.yml")
