"""The signed input channel between the web app and Rasa: both sides of the contract in one place.

Rasa's own REST channel answers anyone who can reach it and believes whatever metadata comes with
a message (`channel`, `caller`, `language`). Ours accepts a message only with an HMAC-SHA256 of a
timestamp, a one-time nonce and the raw body under the shared key (RASA_TOKEN), only for about a
minute and only once, so metadata from it can be trusted: only a holder of the key can have sent it. The request and
response JSON are the REST channel's (`{"sender", "message", "metadata"}` in, a list of
`{"recipient_id", "text" | "custom" ...}` out). Rasa's side is rasa_addons/signed_channel.py;
every client (web app, terminal chat, tests, benchmarks) signs through `signed_message`, most of
them posting with `post_message`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from typing import Any

import requests

from bot.contract import CHANNEL, CHANNELS

CHANNEL_NAME = "signed"  # Rasa's input_channel of every message that came through it
WEBHOOK_PATH = f"/webhooks/{CHANNEL_NAME}/webhook"
SIGNATURE_HEADER = "X-Assistant-Signature"
TIMESTAMP_HEADER = "X-Assistant-Timestamp"
NONCE_HEADER = "X-Assistant-Nonce"  # makes two identical messages in one second two different requests
MAX_AGE_SECONDS = 60  # older (or that far in the future: clocks differ a little) is a replay


def bureau_channel(input_channel: str | None, metadata: object) -> str | None:
    """The bureau's channel (``chat``, ``sms`` or ``voice``) a message came by, as the web app said.

    Only metadata that came through this channel is believed: anyone who reaches another input
    channel could claim to be a phone call. None when the message did not say, or cannot be trusted.
    """
    if input_channel != CHANNEL_NAME or not isinstance(metadata, Mapping):
        return None
    channel = metadata.get(CHANNEL)
    return channel if channel in CHANNELS else None


def signature(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """Hex HMAC-SHA256 of `timestamp.nonce.` followed by the raw body."""
    signed = f"{timestamp}.{nonce}.".encode() + body
    return hmac.new(key.encode(), signed, hashlib.sha256).hexdigest()


def signed_headers(key: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The headers that make `body` acceptable to the channel once, within the next MAX_AGE_SECONDS."""
    timestamp, nonce = str(int(time.time() if now is None else now)), secrets.token_hex(16)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: signature(key, timestamp, nonce, body),
    }


def is_authentic(key: str, body: bytes, headers: Mapping[str, str], now: float | None = None) -> bool:
    """True when the headers sign `body` under `key` with a recent timestamp (the nonce's reuse is the
    receiver's to check)."""
    timestamp, nonce, sig = (headers.get(h) or "" for h in (TIMESTAMP_HEADER, NONCE_HEADER, SIGNATURE_HEADER))
    if not key or not nonce or not sig or not (timestamp.isascii() and timestamp.isdigit()):
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > MAX_AGE_SECONDS:
        return False
    # As bytes: compare_digest refuses str with non-ASCII characters, which a forger may send.
    return hmac.compare_digest(signature(key, timestamp, nonce, body).encode(), sig.encode(errors="replace"))


def post_message(
    http: requests.Session,
    base_url: str,
    key: str,
    sender: str,
    text: str,
    metadata: dict[str, Any] | None = None,
    *,
    timeout: float,
) -> requests.Response:
    """One user message to the Rasa server at `base_url` over the signed channel."""
    body, headers = signed_message(key, sender, text, metadata)
    return http.post(base_url + WEBHOOK_PATH, data=body, headers=headers, timeout=timeout)


def signed_message(
    key: str, sender: str, text: str, metadata: dict[str, Any] | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one user message for `WEBHOOK_PATH`, for clients other than requests."""
    body = json.dumps({"sender": sender, "message": text, "metadata": metadata or {}}).encode()
    return body, signed_headers(key, body)
