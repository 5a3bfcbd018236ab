"""Retention: whole Rasa sessions older than the cut-off leave the tracker store, newer ones stay;
rows an older version stored in clear are sealed in place."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import insert, select

from bot.channels.voice_turns import purge_voice_turns
from bot.db import make_engine
from bot.identity.privacy import EventCipher
from bot.models import VoiceTurn
from bot.review.transcripts import _events, encrypt_clear_events, purge_conversations

CUTOFF = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc)
DAY = 86400.0


def session(sender: str, start: float, *texts: str, gap: float = 1.0) -> list[dict]:
    """Events of one Rasa session as SQLTrackerStore rows: its start, then a user event per text, `gap` s apart."""
    rows = [
        {"sender_id": sender, "type_name": "action", "timestamp": start, "action_name": "action_session_start"},
        {"sender_id": sender, "type_name": "session_started", "timestamp": start + 0.01},
    ]
    for n, text in enumerate(texts, start=1):
        rows.append({"sender_id": sender, "type_name": "user", "timestamp": start + n * gap, "intent_name": "greet",
                     "data": json.dumps({"event": "user", "text": text})})  # fmt: skip
    return rows


@pytest.fixture
def tracker_url(database_url):
    """Rasa's events table beside the card database (SQLite, and PostgreSQL when configured)."""
    engine = make_engine(database_url)
    _events.create(engine)
    yield database_url
    _events.drop(engine)
    engine.dispose()


def texts_by_sender(url: str) -> dict[str, list[str]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(_events.c.sender_id, _events.c.data).order_by(_events.c.id)).all()
    engine.dispose()
    kept: dict[str, list[str]] = {}
    for sender, data in rows:
        kept.setdefault(sender, [])
        if data:
            kept[sender].append(json.loads(data)["text"])
    return kept


def test_sessions_that_ended_before_the_cutoff_go_and_the_rest_stay_whole(tracker_url):
    cut = CUTOFF.timestamp()
    rows = [
        *session("web-old", cut - 40 * DAY, "很久以前"),
        *session("web-new", cut + DAY, "最近"),
        *session("sms-1", cut - 40 * DAY, "上个月"),  # an SMS number keeps its conversation id for good
        *session("sms-1", cut + 2 * DAY, "今天"),
        *session("sms-2", cut - 90, "截止前", "截止后", gap=60),  # running at the cut-off: kept whole
        *session("sms-2", cut - 30 * DAY, "更早"),
        *session("rest-1", cut - 40 * DAY, "旧的")[2:],  # no session markers: event by event
        *session("rest-1", cut + DAY, "新的")[2:],
    ]
    rows.sort(key=lambda row: row["timestamp"])
    engine = make_engine(tracker_url)
    with engine.begin() as conn:
        for row in rows:
            conn.execute(insert(_events).values(**row))
    engine.dispose()

    deleted = purge_conversations(tracker_url, before=CUTOFF)
    assert texts_by_sender(tracker_url) == {
        "web-new": ["最近"], "sms-1": ["今天"], "sms-2": ["截止前", "截止后"], "rest-1": ["新的"]
    }  # fmt: skip
    # web-old whole, sms-1's and sms-2's earlier sessions, the action_session_start Rasa stamps just
    # before sms-2's kept session (it belongs to the one before) and rest-1's old event; nothing newer.
    assert deleted == 3 + 3 + 3 + 1 + 1
    assert purge_conversations(tracker_url, before=CUTOFF) == 0


def test_a_store_rasa_has_not_written_yet_has_nothing_to_purge(tmp_path):
    assert purge_conversations(f"sqlite:///{tmp_path / 'tracker.db'}", before=CUTOFF) == 0


def test_voice_replays_before_the_cutoff_go(session):
    session.add(VoiceTurn(key="CA1:1", twiml="x", created_at=CUTOFF - dt.timedelta(seconds=1)))
    session.add(VoiceTurn(key="CA2:1", twiml="x", created_at=CUTOFF))
    session.flush()
    assert purge_voice_turns(session, before=CUTOFF) == 1
    assert session.scalars(select(VoiceTurn.key)).all() == ["CA2:1"]


def test_rows_stored_in_clear_are_sealed_once(tracker_url):
    engine = make_engine(tracker_url)
    with engine.begin() as conn:
        for row in session("web-1", CUTOFF.timestamp(), "我的身份证320102198605257079"):
            conn.execute(insert(_events).values(**row))
    engine.dispose()
    cipher = EventCipher(Fernet.generate_key().decode())
    assert encrypt_clear_events(tracker_url, cipher, batch=1) == 1  # the user event; the others have no data
    assert encrypt_clear_events(tracker_url, cipher) == 0
    engine = make_engine(tracker_url)
    with engine.connect() as conn:
        (stored,) = conn.scalars(select(_events.c.data).where(_events.c.data.is_not(None))).all()
    engine.dispose()
    assert "320102198605257079" not in stored and "320102198605257079" in cipher.open(stored)
