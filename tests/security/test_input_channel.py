"""Rasa takes messages only from the web app, and the actions believe metadata only from it.

Before, Rasa's REST channel answered any local process or container and its metadata was believed:
anyone could claim to be a phone call from the registered number (`caller`), and so be verified by
the ID number alone. Now the only input channel checks an HMAC of a fresh timestamp, a one-time
nonce and the raw body under RASA_TOKEN. These tests talk to a really started Rasa.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.identity import ValidateIdentityForm
from actions.runtime import channel_of, trusted_metadata
from bot.cards.demo import DEMO_CARDHOLDERS
from bot.channels.signed import (
    CHANNEL_NAME,
    MAX_AGE_SECONDS,
    NONCE_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_PATH,
    is_authentic,
    signed_headers,
)
from rasa_addons.signed_channel import RecentNonces

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.status.value == "shipped")
CALL = {"channel": "voice", "language": "en", "caller": HOLDER.phone}  # the registered number


def _body(sender: str, text: str = "I want to check my card application progress") -> bytes:
    return json.dumps({"sender": sender, "message": text, "metadata": CALL}).encode()


def _user_events(stack, sender: str) -> list[dict]:
    return [e for e in stack.tracker(sender)["events"] if e["event"] == "user"]


def _refusals(key: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    body = _body("forger")
    return {
        "unsigned": (body, {"Content-Type": "application/json"}),
        "wrong key": (body, signed_headers("not-the-key", body)),
        "tampered body": (_body("forger", "report my card lost"), signed_headers(key, body)),
        "two minutes old": (body, signed_headers(key, body, now=time.time() - 120)),
        "from the future": (body, signed_headers(key, body, now=time.time() + 120)),
    }


@pytest.mark.e2e
@pytest.mark.parametrize("kind", ["unsigned", "wrong key", "tampered body", "two minutes old", "from the future"])
def test_a_request_without_a_valid_fresh_signature_is_refused_and_changes_nothing(stack, kind):
    body, headers = _refusals(stack.token)[kind]
    response = requests.post(stack.rasa_url + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    assert response.status_code == 401
    assert _user_events(stack, "forger") == []


@pytest.mark.e2e
def test_a_replayed_request_is_refused(stack):
    body = _body("e2e-replayed")
    headers = signed_headers(stack.token, body)
    first = requests.post(stack.rasa_url + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    assert first.status_code == 200 and first.json()
    again = requests.post(stack.rasa_url + WEBHOOK_PATH, data=body, headers=headers, timeout=30)
    assert again.status_code == 401
    assert len(_user_events(stack, "e2e-replayed")) == 1


@pytest.mark.e2e
def test_rasa_has_no_unauthenticated_rest_channel_and_its_api_wants_the_token(stack):
    body = {"sender": "forger", "message": "hello", "metadata": CALL}
    assert requests.post(f"{stack.rasa_url}/webhooks/rest/webhook", json=body, timeout=30).status_code == 404
    assert requests.get(f"{stack.rasa_url}/conversations/forger/tracker", timeout=30).status_code == 401
    assert requests.get(f"{stack.rasa_url}/status", params={"token": "guess"}, timeout=30).status_code == 401


@pytest.mark.parametrize(
    "change",
    [
        {SIGNATURE_HEADER: "é" * 64},
        {SIGNATURE_HEADER: ""},
        {TIMESTAMP_HEADER: "²"},
        {TIMESTAMP_HEADER: "-1"},
        {TIMESTAMP_HEADER: "1e9"},
        {NONCE_HEADER: ""},
        {NONCE_HEADER: "another-nonce"},
    ],
)
def test_odd_or_altered_headers_are_not_authentic(change):
    body = _body("forger")
    headers = signed_headers("key", body)
    assert is_authentic("key", body, headers)
    assert not is_authentic("key", body, {**headers, **change})
    assert not is_authentic("", body, signed_headers("", body))  # no key configured: nothing is authentic


def test_a_nonce_is_accepted_once_and_forgotten_only_after_its_timestamp_expired():
    recent = RecentNonces()
    assert recent.first_use("a", now=1000.0) and not recent.first_use("a", now=1001.0)
    assert recent.first_use("b", now=1001.0)
    assert recent.first_use("a", now=1000.0 + 2 * MAX_AGE_SECONDS + 1)  # by now its signature is stale anyway


@pytest.mark.e2e
def test_metadata_of_a_signed_message_is_believed(stack):
    """A signed call from the registered number is verified by the ID number alone, as the web app intends."""
    stack.say("e2e-signed-call", "I want to check my card application progress", CALL)
    answer = stack.say("e2e-signed-call", HOLDER.id_number, CALL)
    assert any("on its way" in text for text in answer), answer
    assert not any("last four digits" in text for text in answer)


def _tracker(input_channel: str | None) -> Tracker:
    latest = {"text": HOLDER.id_number, "intent": {"name": "inform"}, "metadata": CALL}
    event = {"event": "user", "text": HOLDER.id_number, "input_channel": input_channel, "metadata": CALL}
    return Tracker.from_dict({"sender_id": "other-channel", "slots": {}, "latest_message": latest, "events": [event]})


@pytest.mark.parametrize("input_channel", ["rest", "twilio", "socketio", None])
async def test_metadata_from_any_other_channel_is_plain_chat_with_no_caller(input_channel):
    tracker = _tracker(input_channel)
    assert trusted_metadata(tracker) == {} and channel_of(tracker) == "chat"
    slots = await ValidateIdentityForm().validate_id_number(HOLDER.id_number, CollectingDispatcher(), tracker, {})
    assert slots == {"id_number": HOLDER.id_number}  # not verified by the claimed caller ID


def test_metadata_from_the_signed_channel_is_believed():
    tracker = _tracker(CHANNEL_NAME)
    assert channel_of(tracker) == "voice" and trusted_metadata(tracker)["caller"] == HOLDER.phone
