"""Talking to Rasa's REST channel on loopback, with a time budget."""

from __future__ import annotations

import logging
from typing import Any

import requests

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa did not answer in time, answered with an error, or answered nothing."""


class RasaClient:
    """One REST-channel turn: a message in, the bot's messages out."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self._http = requests.Session()

    def send(self, sender: str, text: str, metadata: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The bot's replies to `text` in conversation `sender`; RasaUnavailable when there are none."""
        try:
            response = self._http.post(
                f"{self.base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata or {}},
                timeout=self.timeout,
            )
            response.raise_for_status()
            messages = response.json()
        except (requests.RequestException, ValueError) as error:
            log.warning("rasa turn failed: %s", type(error).__name__)
            raise RasaUnavailable(type(error).__name__) from None
        if not isinstance(messages, list) or not messages:
            # An empty answer means an action failed inside Rasa (e.g. the action server is down).
            raise RasaUnavailable("no reply")
        return messages

    def tracker(self, sender: str, token: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's HTTP API; RasaUnavailable if it cannot be read."""
        try:
            response = self._http.get(
                f"{self.base_url}/conversations/{sender}/tracker", params={"token": token}, timeout=self.timeout
            )
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError) as error:
            raise RasaUnavailable(type(error).__name__) from None

    def is_ready(self, token: str) -> bool:
        """True when Rasa answers and has a model loaded."""
        try:
            status = self._http.get(f"{self.base_url}/status", params={"token": token}, timeout=2).json()
        except (requests.RequestException, ValueError):
            return False
        return bool(status.get("model_file"))
