"""The load generators' HTTP client against a real server on loopback: what a browser would send and keep."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from bench.http_client import Client, HTTPError, origin_and_path


class _Echo(BaseHTTPRequestHandler):
    """Says what it received; /login sets two cookies, /logout deletes one. HTTP/1.1, as gunicorn and
    Sanic answer: the connection stays open."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer(b"")

    def do_POST(self) -> None:
        self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

    def _answer(self, body: bytes) -> None:
        kind = self.headers.get("Content-Type") or ""
        seen = {
            "path": self.path,
            "cookies": {name: morsel.value for name, morsel in SimpleCookie(self.headers.get("Cookie") or "").items()},
            "form": dict(parse_qsl(body.decode())) if kind.startswith("application/x-www-form-urlencoded") else None,
            "json": json.loads(body) if kind == "application/json" else None,
            "header": self.headers.get("X-Test"),
            "peer_port": self.client_address[1],
        }
        answer = json.dumps(seen).encode()
        self.send_response(200)
        if self.path == "/login":
            self.send_header("Set-Cookie", "session=abc.def; HttpOnly; Path=/; SameSite=Lax")
            self.send_header("Set-Cookie", "lang=zh; Path=/")
        if self.path == "/logout":
            self.send_header("Set-Cookie", "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_: object) -> None:
        """Quiet."""


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_cookies_set_by_the_server_go_back_until_it_deletes_them(origin):
    with Client(origin, timeout=5) as client:
        assert client.get("/login").json()["cookies"] == {}
        assert client.get("/page").json()["cookies"] == {"session": "abc.def", "lang": "zh"}
        client.get("/logout")
        assert client.get("/page").json()["cookies"] == {"lang": "zh"}


def test_bodies_headers_and_the_query_are_sent_as_given(origin):
    with Client(origin, timeout=5) as client:
        client.headers["X-Test"] = "every request"
        form = client.post_form("/twilio/voice?step=1", {"SpeechResult": "挂失 & 补办", "Digits": "1234#"}).json()
        assert (
            form["form"] == {"SpeechResult": "挂失 & 补办", "Digits": "1234#"}
            and form["path"] == "/twilio/voice?step=1"
        )
        sent = client.post_json("/chat/message", {"message": "你好"})
        assert (
            sent.status == 200
            and sent.json()["json"] == {"message": "你好"}
            and sent.json()["header"] == "every request"
        )


def test_one_connection_is_kept_open_between_requests(origin):
    with Client(origin, timeout=5) as client:
        ports = {client.get("/page").json()["peer_port"] for _ in range(3)}
    assert len(ports) == 1


def test_a_server_that_is_not_there_raises_urllib3s_error(unused_tcp_port):
    with Client(f"http://127.0.0.1:{unused_tcp_port}", timeout=1) as client, pytest.raises(HTTPError):
        client.get("/")


def test_urls_split_into_the_origin_and_the_request_target():
    assert origin_and_path("http://127.0.0.1:8000/chat/message") == ("http://127.0.0.1:8000", "/chat/message")
    assert origin_and_path("http://127.0.0.1:5005") == ("http://127.0.0.1:5005", "/")
    assert origin_and_path("http://h:1/a?b=c") == ("http://h:1", "/a?b=c")
    with pytest.raises(ValueError):
        Client("https://example.org", timeout=1)
