"""A fake of Twilio's Messages API on loopback, for the real Twilio client to talk to.

It checks the account's basic auth, records every message created, answers the list query the
worker uses to recover, fails or stalls on demand, and posts signed status callbacks the way
Twilio does.
"""

from __future__ import annotations

import base64
import email.utils
import json
import re
import secrets
import threading
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from twilio.request_validator import RequestValidator

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages\.json$")


@dataclass
class FakeMessage:
    sid: str
    to: str
    sender: str
    body: str
    status_callback: str | None
    created: str
    status: str = "queued"


@dataclass
class FakeTwilio:
    """The fake's state; `url` is the base URL to give the client (TWILIO_API_BASE_URL)."""

    account_sid: str
    auth_token: str
    url: str = ""
    messages: list[FakeMessage] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)  # HTTP statuses for the next creates
    stall: threading.Event | None = None  # set: creates are recorded, then answered only when released
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *statuses: int) -> None:
        self.failures.extend(statuses)

    def to(self, number: str) -> list[FakeMessage]:
        with self.lock:
            return [m for m in self.messages if m.to == number]

    def post_status(self, message: FakeMessage, status: str, *, auth_token: str | None = None) -> int:
        """Post a status callback for `message`, signed like Twilio's; returns the HTTP status."""
        params = {"MessageSid": message.sid, "MessageStatus": status, "AccountSid": self.account_sid}
        signature = RequestValidator(auth_token or self.auth_token).compute_signature(message.status_callback, params)
        request = urllib.request.Request(
            message.status_callback,
            data=urllib.parse.urlencode(params).encode(),
            headers={"X-Twilio-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _reply(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _authorised(self) -> bool:
            expected = base64.b64encode(f"{fake.account_sid}:{fake.auth_token}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {expected}":
                self._reply(401, {"code": 20003, "message": "Authenticate", "status": 401})
                return False
            return True

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            path = urllib.parse.urlparse(self.path).path
            if not _MESSAGES.match(path) or not self._authorised():
                if _MESSAGES.match(path) is None:
                    self._reply(404, {"code": 20404, "message": "not found", "status": 404})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            with fake.lock:
                failure = fake.failures.pop(0) if fake.failures else None
            if failure is not None:
                self._reply(failure, {"code": 30001 if failure >= 500 else 21211, "message": "fake", "status": failure})
                return
            message = FakeMessage(
                sid="SM" + secrets.token_hex(16),
                to=form.get("To", ""),
                sender=form.get("From") or form.get("MessagingServiceSid", ""),
                body=form.get("Body", ""),
                status_callback=form.get("StatusCallback"),
                created=email.utils.formatdate(usegmt=True),
            )
            with fake.lock:
                fake.messages.append(message)
            if fake.stall is not None:
                fake.stall.wait(60)
            self._reply(201, _resource(fake, message))

        def do_GET(self) -> None:  # noqa: N802
            parsed = urllib.parse.urlparse(self.path)
            if not _MESSAGES.match(parsed.path) or not self._authorised():
                return
            query = dict(urllib.parse.parse_qsl(parsed.query))
            with fake.lock:
                found = [
                    m
                    for m in reversed(fake.messages)
                    if query.get("To", m.to) == m.to and query.get("From", m.sender) == m.sender
                ]
            self._reply(200, {"messages": [_resource(fake, m) for m in found], "next_page_uri": None, "page": 0})

    return Handler


def _resource(fake: FakeTwilio, message: FakeMessage) -> dict:
    return {
        "sid": message.sid,
        "account_sid": fake.account_sid,
        "to": message.to,
        "from": message.sender,
        "body": message.body,
        "status": message.status,
        "date_created": message.created,
        "date_updated": message.created,
        "date_sent": None,
        "num_segments": "1",
        "direction": "outbound-api",
        "uri": f"/2010-04-01/Accounts/{fake.account_sid}/Messages/{message.sid}.json",
    }


def start_fake_twilio(account_sid: str, auth_token: str) -> tuple[FakeTwilio, ThreadingHTTPServer]:
    """Serve a fake on a free loopback port; shut it down with `server.shutdown()`."""
    fake = FakeTwilio(account_sid=account_sid, auth_token=auth_token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server
