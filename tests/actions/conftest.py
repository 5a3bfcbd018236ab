"""Fixtures for action tests: the action server's settings pointed at the test database, trackers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.runtime import services
from bot.signed_channel import CHANNEL_NAME

DOMAIN = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def action_settings(settings, sessions, monkeypatch):
    """Point the action server's lazily made services at this test's database and keys."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("ID_HASH_KEY", settings.id_hash_key)
    monkeypatch.setenv("DATA_ENCRYPTION_KEY", settings.data_encryption_key)
    services.cache_clear()
    yield services().settings
    services.cache_clear()


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


@pytest.fixture
def domain() -> dict[str, Any]:
    return DOMAIN


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
