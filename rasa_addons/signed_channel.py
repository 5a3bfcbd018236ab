"""The web app's input channel: Rasa's REST channel, but only for requests signed with the shared key.

credentials.yml names it (`rasa_addons.signed_channel.SignedInput` with `key: ${RASA_TOKEN}`) in
place of Rasa's REST channel, which answers anyone and believes any metadata. A request must carry
a recent timestamp, a nonce and the HMAC-SHA256 of them and the raw body (bot/channels/signed.py); a
nonce already seen by this process is refused too, so a captured request cannot be replayed here. Every
refusal is a 401 that changes nothing. Messages are stamped with this channel's name, which is how
the actions know their metadata came from the web app.
"""

from __future__ import annotations

import json
import logging
import time
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.signed import CHANNEL_NAME, MAX_AGE_SECONDS, NONCE_HEADER, is_authentic

log = logging.getLogger(__name__)


class RecentNonces:
    """Nonces of requests accepted lately; older than twice MAX_AGE_SECONDS they fail the timestamp check."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}  # in the order they came, so the oldest is first

    def first_use(self, nonce: str, now: float) -> bool:
        """Record `nonce`; False when it was already used."""
        while self._seen:
            oldest, seen_at = next(iter(self._seen.items()))
            if now - seen_at <= 2 * MAX_AGE_SECONDS:
                break
            del self._seen[oldest]
        if nonce in self._seen:
            return False
        self._seen[nonce] = now
        return True


def _message(body: bytes) -> tuple[str, str, dict[str, Any]] | None:
    """Sender, text and metadata of a REST-channel body, or None when it is not one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    sender, text, metadata = payload.get("sender"), payload.get("message"), payload.get("metadata") or {}
    if not isinstance(sender, str) or not sender or not isinstance(text, str) or not isinstance(metadata, dict):
        return None
    return sender, text, metadata


class SignedInput(InputChannel):
    """POST /webhooks/signed/webhook: REST-channel JSON, accepted only when signed with the key."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SignedInput:
        key = (credentials or {}).get("key") or ""
        if not key:
            raise RasaException("the signed channel needs `key` (the shared RASA_TOKEN) in credentials.yml")
        return cls(key)

    def __init__(self, key: str) -> None:
        self.key = key
        self.recent = RecentNonces()

    def is_signed(self, request: Request) -> bool:
        now = time.time()
        if not is_authentic(self.key, request.body, request.headers, now=now):
            return False
        return self.recent.first_use(request.headers[NONCE_HEADER], now)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("signed_webhook", __name__)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.is_signed(request):
                log.warning("signed channel: refused a request without a valid, fresh signature")
                return response.json({"error": "unauthorized"}, status=401)
            message = _message(request.body)
            if message is None:
                return response.json({"error": "expected {sender, message, metadata}"}, status=400)
            sender, text, metadata = message
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except CancelledError:
                log.error("signed channel: the turn timed out")
            except Exception as error:  # as Rasa's REST channel: the client gets what was said so far
                log.error("signed channel: the turn failed: %s", type(error).__name__)
            return response.json(collector.messages)

        return webhook
