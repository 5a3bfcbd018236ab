"""/metrics, request ids and what the web app counts, against a scripted Rasa on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from twilio.request_validator import RequestValidator

from bot.config import ROOT
from bot.platform.migrate import upgrade
from tests.e2e.processes import wait_until
from tests.support import TWILIO_TOKEN, free_port, make_web_settings, open_chat_page
from webhooks import create_app


@dataclass
class ScriptedRasa:
    """What the fake Rasa answers next, and the message bodies it received."""

    replies: Any = field(default_factory=lambda: [{"recipient_id": "x", "text": "好的"}])
    status: int = 200
    tracker_status: int = 200
    delay: float = 0.0
    received: list[dict] = field(default_factory=list)
    tracker_queries: list[str] = field(default_factory=list)


def _handler(script: ScriptedRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            script.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            time.sleep(script.delay)
            self._answer(script.status, script.replies)

        def do_GET(self):
            script.tracker_queries.append(self.path)
            self._answer(script.tracker_status, {"events": []})

        def log_message(self, *args):
            pass

    return Handler


@pytest.fixture
def rasa() -> Iterator[tuple[ScriptedRasa, str]]:
    script = ScriptedRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield script, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(settings, sessions, rasa):
    web = make_web_settings(settings, rasa_url=rasa[1])
    web.rasa_timeout = 0.5
    return open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def chat(client, text: str = "查进度", **headers: str):
    return client.post("/chat/message", json={"message": text}, headers=headers)


def scraped(client, name: str, **labels: str) -> float:
    """A sample's value as /metrics serves it (0 when absent)."""
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def test_metrics_are_served_in_prometheus_text_format(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    text = response.get_data(as_text=True)
    for name in ("assistant_turns", "assistant_rasa_errors", "assistant_twilio_webhook_seconds", "assistant_messages",
                 "assistant_fallback_messages"):  # fmt: skip
        assert f"# TYPE {name}" in text


def test_a_turn_is_counted_by_channel_without_asking_rasa_again(client, rasa):
    before = value("assistant_turns_total", channel="chat")
    assert chat(client).status_code == 200
    assert value("assistant_turns_total", channel="chat") == before + 1
    assert rasa[0].tracker_queries == []  # the person's turn costs one request to Rasa, no more


def _store_events(tracker_db: Path, rows: list[tuple[str, str, str | None, str | None, float]]) -> None:
    """Rows of Rasa's events table: (conversation id, event type, intent, action, timestamp)."""
    from sqlalchemy import insert

    from bot.db import make_engine
    from bot.review.transcripts import _events

    engine = make_engine(f"sqlite:///{tracker_db}")
    _events.metadata.create_all(engine)
    with engine.begin() as conn:
        for sender, kind, intent, action, at in rows:
            conn.execute(insert(_events).values(sender_id=sender, type_name=kind, intent_name=intent,
                                                action_name=action, timestamp=at, data="{}"))  # fmt: skip
    engine.dispose()


def test_what_rasa_understood_is_counted_from_its_tracker_store(settings, sessions, tmp_path):
    tracker_db = tmp_path / "tracker.db"
    old = time.time() - 60
    _store_events(tracker_db, [
        ("web-1", "user", "check_progress", None, old),
        ("web-1", "action", None, "identity_form", old),
        ("web-1", "user", "nlu_fallback", None, old + 1),
        ("call-CA1", "user", "greet", None, old + 2),
        ("call-CA1", "action", None, "action_default_fallback", old + 2),  # Rasa's own fallback
        ("sms-9f", "user", "report_loss", None, old + 3),
        ("web-2", "user", "greet", None, time.time()),  # not settled yet: counted at a later scrape
    ])  # fmt: skip
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tracker_db}")
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    assert scraped(client, "assistant_messages_total", channel="chat", intent="check_progress") == 1
    assert scraped(client, "assistant_messages_total", channel="chat", intent="nlu_fallback") == 1
    assert scraped(client, "assistant_messages_total", channel="voice", intent="greet") == 1
    assert scraped(client, "assistant_messages_total", channel="sms", intent="report_loss") == 1
    assert scraped(client, "assistant_fallback_messages_total", channel="chat") == 1
    assert scraped(client, "assistant_fallback_messages_total", channel="voice") == 1
    assert scraped(client, "assistant_messages_total", channel="chat", intent="greet") == 0
    _store_events(tracker_db, [("web-3", "user", "check_progress", None, old + 4)])
    assert scraped(client, "assistant_messages_total", channel="chat", intent="check_progress") == 1  # waits its turn
    assert scraped(client, "assistant_fallback_messages_total", channel="sms") == 0


def test_metrics_are_served_while_the_tracker_store_cannot_be_read(settings, sessions, tmp_path):
    web = replace(make_web_settings(settings), tracker_store_url=f"sqlite:///{tmp_path / 'absent.db'}")
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    response = client.get("/metrics")
    assert response.status_code == 200 and "assistant_rasa_errors_total" in response.get_data(as_text=True)


def test_only_new_loss_reports_are_counted(client, rasa):
    before = value("assistant_loss_reports_created_total", channel="chat")
    rasa[0].replies = [{"text": "已挂失"}, {"custom": {"loss_reference": "1234567890", "created": True}}]
    chat(client, "确认")
    rasa[0].replies = [{"text": "已经挂失过"}, {"custom": {"loss_reference": "1234567890", "created": False}}]
    chat(client, "确认")
    assert value("assistant_loss_reports_created_total", channel="chat") == before + 1


@pytest.mark.parametrize(
    ("change", "kind"),
    [({"status": 500}, "http_error"), ({"replies": []}, "empty_reply"), ({"delay": 1.0}, "timeout")],
)
def test_rasa_errors_are_counted_by_kind(client, rasa, change, kind):
    for name, setting in change.items():
        setattr(rasa[0], name, setting)
    before = value("assistant_rasa_errors_total", kind=kind)
    assert "暂时无法办理" in chat(client).get_json()["replies"][0]
    assert value("assistant_rasa_errors_total", kind=kind) == before + 1


def test_unreachable_rasa_is_counted(app):
    before = value("assistant_rasa_errors_total", kind="unreachable")
    open_chat_page(app.test_client()).post("/chat/message", json={"message": "查进度"})
    assert value("assistant_rasa_errors_total", kind="unreachable") == before + 1


def test_twilio_webhook_latency_is_observed_by_route(client):
    before = value("assistant_twilio_webhook_seconds_count", route="/twilio/voice/turn")
    turns_before = value("assistant_turns_total", channel="voice")
    form = {"CallSid": "CA" + "1" * 32, "From": "+8613900001001", "SpeechResult": "查进度"}
    url = "http://localhost/twilio/voice/turn?lang=zh&silent=0&greeting=0&step=1"
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(url, form)
    response = client.post(url, data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert value("assistant_twilio_webhook_seconds_count", route="/twilio/voice/turn") == before + 1
    assert value("assistant_turns_total", channel="voice") == turns_before + 1


def test_the_request_id_goes_to_rasa_and_back_to_the_caller(client, rasa):
    response = chat(client)
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 16
    metadata = rasa[0].received[-1]["metadata"]
    assert metadata == {"channel": "chat", "request_id": request_id, "client": metadata["client"]}
    kept = chat(client, **{"X-Request-ID": "lb-7f3a9c21-0001"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert rasa[0].received[-1]["metadata"]["request_id"] == "lb-7f3a9c21-0001"


@pytest.mark.parametrize("offered", ["short", "x" * 65, "id with spaces", "<script>alert(1)</script>", "ид-0000000001"])
def test_an_unsafe_request_id_is_replaced(client, rasa, offered):
    response = chat(client, **{"X-Request-ID": offered})
    assert response.headers["X-Request-ID"] != offered
    assert rasa[0].received[-1]["metadata"]["request_id"] == response.headers["X-Request-ID"]


def test_under_gunicorn_metrics_are_summed_over_workers(rasa, tmp_path):
    """Several worker processes each count their own turns; /metrics must show the sum from any of them."""
    script, rasa_url = rasa
    script.delay = 0.2  # slow turns, so concurrent requests are spread over both workers
    script.replies = [{"text": "已挂失"}, {"custom": {"loss_reference": "1234567890", "created": True}}]
    database_url = f"sqlite:///{tmp_path / 'cards.db'}"
    upgrade(database_url)
    port = free_port()
    env = {
        **os.environ,
        "FLASK_SECRET_KEY": "s" * 32,
        "ID_HASH_KEY": "gunicorn-test-key",
        "DATA_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DATABASE_URL": database_url,
        "RASA_PORT": rasa_url.rsplit(":", 1)[1],
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"left over from an earlier run")
    command = [str(Path(sys.executable).with_name("gunicorn")), "--config", "webhooks/gunicorn_conf.py", "-k", "sync",
               "--workers", "2", "--bind", f"127.0.0.1:{port}", "webhooks:create_app()"]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with open(tmp_path / "web.log", "wb") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until(lambda: requests.get(f"{base}/healthz", timeout=2).status_code == 503, 60, "gunicorn", [server])
            turns = 12
            with ThreadPoolExecutor(6) as pool:
                answers = list(pool.map(lambda _: _chat_turn(base), range(turns)))
            assert all(a.status_code == 200 for a in answers)
            scrapes = [requests.get(f"{base}/metrics", timeout=5).text for _ in range(6)]
        finally:
            server.terminate()
            server.wait(timeout=20)
    lines = [json.loads(line) for line in (tmp_path / "web.log").read_text().splitlines() if line.startswith("{")]
    served_by = {
        line["pid"] for line in lines if line["logger"] == "gunicorn.access" and "/chat/message" in line["message"]
    }
    assert len(served_by) == 2, "both workers should have answered turns"
    assert {_total(scrape, "assistant_turns_total") for scrape in scrapes} == {turns}
    assert {_total(scrape, "assistant_loss_reports_created_total") for scrape in scrapes} == {turns}
    access = [line for line in lines if line["logger"] == "gunicorn.access" and "/chat/message" in line["message"]]
    assert {line["request_id"] for line in access} == {a.headers["X-Request-ID"] for a in answers}
    assert {line["request_id"] for line in lines if line["logger"] == "webhooks.turns"} >= {
        a.headers["X-Request-ID"] for a in answers
    }


def _chat_turn(base: str) -> requests.Response:
    """A browser's first message: the chat page (for its CSRF token and session), then the message."""
    with requests.Session() as http:
        page = http.get(f"{base}/", timeout=10).text
        token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
        return http.post(f"{base}/chat/message", json={"message": "查进度"}, headers={"X-CSRFToken": token})


def _total(exposition: str, name: str) -> float:
    """The chat channel's value of counter `name` in a /metrics page."""
    return sum(
        float(line.rsplit(" ", 1)[1]) for line in exposition.splitlines() if line.startswith(f'{name}{{channel="chat"')
    )


@pytest.mark.parametrize("config", ["webhooks/gunicorn_conf.py", "deploy/gunicorn.conf.py"])
def test_gunicorn_configs_put_prometheus_in_multiprocess_mode_before_it_is_imported(config):
    """gunicorn loads its config in the master before forking: prometheus_client must not be imported
    earlier (through the webhooks package) or it settles on per-process values and /metrics reads an
    empty folder in every worker."""
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1]); "
        "from prometheus_client import values; print(values.ValueClass.__qualname__)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    result = subprocess.run(
        [sys.executable, "-c", probe, config], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-500:]
    assert "MultiProcessValue" in result.stdout
