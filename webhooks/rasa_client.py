"""Talking to Rasa's signed input channel, with a time budget, spread over one or more Rasa servers.

Several Rasa servers can serve one conversation because they share the tracker store and the
lock store. Turns go to them in turn; a server that refuses the connection (stopped, restarting)
is skipped for that turn, since the message never reached it. A timeout or an error answer is not
retried elsewhere: the first server may have acted on the message already.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import requests
from urllib3.exceptions import NewConnectionError

from bot.channels.signed import post_message
from bot.platform.logs import current_request_id
from bot.platform.service_settings import shown_url
from webhooks.metrics import RASA_ERRORS

log = logging.getLogger(__name__)
T = TypeVar("T")


class RasaUnavailable(Exception):
    """Rasa did not answer in time, answered with an error, or answered nothing."""


def _not_delivered(error: requests.RequestException) -> bool:
    """True when the request cannot have reached Rasa, so another server may take it."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    if not isinstance(error, requests.ConnectionError) or not error.args:
        return False
    return isinstance(getattr(error.args[0], "reason", None), NewConnectionError)


def _error_kind(error: Exception) -> str:
    if isinstance(error, requests.Timeout):
        return "timeout"
    if isinstance(error, requests.ConnectionError):
        return "unreachable"
    if isinstance(error, requests.HTTPError):
        return "http_error"
    return "bad_reply"


class RasaClient:
    """One turn over the signed channel (messages signed with `key`): a message in, the bot's messages out."""

    def __init__(self, base_urls: str | Sequence[str], *, key: str, timeout: float) -> None:
        self.base_urls = [base_urls] if isinstance(base_urls, str) else list(base_urls)
        if not self.base_urls:
            raise ValueError("RasaClient needs at least one Rasa URL")
        self.base_url = self.base_urls[0]
        self.timeout = timeout
        self.key = key
        self._http = requests.Session()
        # Rasa is reached directly, never through a proxy or netrc credentials from the environment,
        # which requests would otherwise look up again on every turn.
        self._http.trust_env = False
        self._next = itertools.cycle(range(len(self.base_urls)))
        self._lock = threading.Lock()

    def _servers(self) -> list[str]:
        """Every server once, starting with the next in turn."""
        with self._lock:
            start = next(self._next)
        return self.base_urls[start:] + self.base_urls[:start]

    def _call(self, request: Callable[[str], requests.Response]) -> requests.Response:
        """`request(base_url)` on the next server, moving on only while connections are refused."""
        servers = self._servers()
        for position, base_url in enumerate(servers):
            try:
                response = request(base_url)
            except requests.RequestException as error:
                if position + 1 < len(servers) and _not_delivered(error):
                    log.warning("rasa server %s refused the connection; trying the next", shown_url(base_url))
                    continue
                raise
            return response
        raise AssertionError("unreachable: the last server's failure is raised")

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's replies to `text` in conversation `sender`; RasaUnavailable when there are none.

        The current request id travels in the metadata, so the action server can log it.
        """
        metadata = dict(metadata or {})
        if current_request_id():
            metadata["request_id"] = current_request_id()
        try:
            response = self._call(
                lambda base: post_message(self._http, base, self.key, sender, text, metadata, timeout=self.timeout)
            )
            response.raise_for_status()
            messages = response.json()
        except (requests.RequestException, ValueError) as error:
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
        path, params = f"/conversations/{sender}/tracker", {"token": token}
        try:
            response = self._call(lambda base: self._http.get(base + path, params=params, timeout=self.timeout))
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from None

    def is_ready(self, token: str) -> bool:
        """True when a Rasa server answers with a model loaded (turns skip the ones that are down)."""
        return any(self.readiness(token).values())

    def readiness(self, token: str) -> dict[str, bool]:
        """Each Rasa server's URL (as `shown_url` shows it) and whether it answers with a model loaded."""
        return {shown_url(base_url): self._ready(base_url, token) for base_url in self.base_urls}

    def _ready(self, base_url: str, token: str) -> bool:
        try:
            status = self._http.get(f"{base_url}/status", params={"token": token}, timeout=2).json()
        except (requests.RequestException, ValueError):
            return False
        return bool(status.get("model_file"))
