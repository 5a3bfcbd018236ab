"""Talking to Rasa's signed input channel, with a time budget, spread over one or more Rasa servers.

Several Rasa servers can serve one conversation because they share the tracker store and the
lock store. Turns go to them in turn; a server that refuses the connection (stopped, restarting)
is skipped for that turn, since the message never reached it. A timeout or an error answer is not
retried elsewhere: the first server may have acted on the message already.

Requests go through urllib3's thread-safe connection pool, not a requests session: every chat turn
makes one, and requests' own work around it cost the web app about 0.6 ms of CPU per turn, more
than half of the call (2026-12-01). urllib3 never reads proxy settings from the environment, and
a user and password in a server's URL become its basic-auth header here, as requests would send.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, unquote

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util import make_headers, parse_url

from bot.channels.signed import WEBHOOK_PATH, signed_message
from bot.platform.logs import current_request_id
from bot.platform.service_settings import shown_url
from webhooks.metrics import RASA_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")


class RasaUnavailable(Exception):
    """Rasa did not answer in time, answered with an error, or answered nothing."""


class _ErrorAnswer(Exception):
    """Rasa answered with an HTTP error status."""


def _not_delivered(error: Exception) -> bool:
    """True when the request cannot have reached Rasa (the connection was refused or never made),
    so another server may take it."""
    return isinstance(error, ConnectTimeoutError)  # NewConnectionError (refused) is one too


def _error_kind(error: Exception) -> str:
    if isinstance(error, NewConnectionError):
        return "unreachable"
    if isinstance(error, Urllib3Timeout):
        return "timeout"
    if isinstance(error, HTTPError):
        return "unreachable"
    if isinstance(error, _ErrorAnswer):
        return "http_error"
    return "bad_reply"


@dataclass(frozen=True)
class _Server:
    """One Rasa server: its URL as configured, that URL without its user and password (where
    requests go), and the basic-auth header they make."""

    url: str
    base: str
    headers: dict[str, str]

    @classmethod
    def parse(cls, url: str) -> _Server:
        parsed = parse_url(url)
        headers = make_headers(basic_auth=unquote(parsed.auth)) if parsed.auth else {}
        return cls(url, parsed._replace(auth=None).url, headers)


class RasaClient:
    """One turn over the signed channel (messages signed with `key`): a message in, the bot's messages out."""

    def __init__(self, base_urls: str | Sequence[str], *, key: str, timeout: float) -> None:
        self.base_urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not self.base_urls:
            raise ValueError("RasaClient needs at least one Rasa URL")
        self.base_url = self.base_urls[0]
        self.timeout = timeout
        self.key = key
        self._servers_in_order = [_Server.parse(url) for url in self.base_urls]
        # Retries off: whether a failed turn may go to another server is decided in `_call`.
        self._http = urllib3.PoolManager(maxsize=8, retries=False)
        self._next = itertools.cycle(range(len(self.base_urls)))
        self._lock = threading.Lock()

    def _servers(self) -> list[_Server]:
        """Every server once, starting with the next in turn."""
        with self._lock:
            start = next(self._next)
        return self._servers_in_order[start:] + self._servers_in_order[:start]

    def _request(
        self,
        server: _Server,
        method: str,
        path: str,
        *,
        timeout: float,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        fields: dict[str, str] | None = None,
    ) -> Any:
        """The JSON `server` answers to one request; _ErrorAnswer for an HTTP error status."""
        budget = urllib3.Timeout(connect=timeout, read=timeout)
        response = self._http.request(
            method, server.base + path, body=body, fields=fields, headers={**server.headers, **(headers or {})},
            timeout=budget,
        )  # fmt: skip
        if response.status >= 400:
            raise _ErrorAnswer(response.status)
        return json.loads(response.data)

    def _call(self, request: Callable[[_Server], T]) -> T:
        """`request(server)` on the next server, moving on only while connections are refused."""
        servers = self._servers()
        for position, server in enumerate(servers):
            try:
                return request(server)
            except HTTPError as error:
                if position + 1 < len(servers) and _not_delivered(error):
                    log.warning("rasa server %s refused the connection; trying the next", shown_url(server.url))
                    continue
                raise
        raise AssertionError("unreachable: the last server's failure is raised")

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's replies to `text` in conversation `sender`; RasaUnavailable when there are none.

        The current request id travels in the metadata, so the action server can log it.
        """
        metadata = dict(metadata or {})
        if current_request_id():
            metadata["request_id"] = current_request_id()
        body, headers = signed_message(self.key, sender, text, metadata)
        try:
            messages = self._call(
                lambda server: self._request(
                    server, "POST", WEBHOOK_PATH, body=body, headers=headers, timeout=self.timeout
                )
            )
        except (HTTPError, _ErrorAnswer, ValueError) as error:
            kind = _error_kind(error)
            RASA_ERRORS.labels(kind=kind).inc()
            log.warning("rasa turn failed: %s", kind, extra={"outcome": type(error).__name__})
            raise RasaUnavailable(kind) from None
        if not isinstance(messages, list) or not messages:
            # An empty answer means an action failed inside Rasa (e.g. the action server is down).
            RASA_ERRORS.labels(kind="empty_reply").inc()
            log.warning("rasa turn failed: empty_reply")
            raise RasaUnavailable("empty_reply")
        return messages

    def tracker(self, sender: str, token: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's HTTP API; RasaUnavailable if it cannot be read."""
        path = f"/conversations/{quote(sender, safe='')}/tracker"
        try:
            return self._call(
                lambda server: self._request(server, "GET", path, fields={"token": token}, timeout=self.timeout)
            )
        except (HTTPError, _ErrorAnswer, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from None

    def is_ready(self, token: str) -> bool:
        """True when a Rasa server answers with a model loaded (turns skip the ones that are down)."""
        return any(self.readiness(token).values())

    def readiness(self, token: str) -> dict[str, bool]:
        """Each Rasa server's URL (as `shown_url` shows it) and whether it answers with a model loaded."""
        return {shown_url(server.url): self._ready(server, token) for server in self._servers_in_order}

    def _ready(self, server: _Server, token: str) -> bool:
        try:
            status = self._request(server, "GET", "/status", fields={"token": token}, timeout=2)
        except (HTTPError, _ErrorAnswer, ValueError):
            return False
        return isinstance(status, dict) and bool(status.get("model_file"))
