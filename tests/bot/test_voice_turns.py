"""The hotline's memory of its answers: the first answer to a step stays, old ones go (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.channels.voice_turns import KEEP_FOR, remember_answer, remembered_answer
from bot.models import VoiceTurn

NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_an_answer_is_remembered_for_its_step_only(engine, sessions):
    with engine.begin() as connection:
        assert remembered_answer(connection, key="CA1:1") is None
        assert (
            remember_answer(connection, key="CA1:1", twiml="<Response>一</Response>", now=NOW)
            == "<Response>一</Response>"
        )
    with engine.connect() as connection:
        assert remembered_answer(connection, key="CA1:1") == "<Response>一</Response>"
        assert remembered_answer(connection, key="CA1:2") is None


def test_a_replay_that_answered_meanwhile_gets_the_answer_kept_first(engine, sessions):
    with engine.begin() as connection:
        remember_answer(connection, key="CA1:3", twiml="first", now=NOW)
    with engine.begin() as connection:
        assert remember_answer(connection, key="CA1:3", twiml="second", now=NOW) == "first"
    with sessions() as session:
        assert session.scalars(select(VoiceTurn.twiml)).all() == ["first"]


def test_each_new_answer_clears_those_older_than_a_day(engine, sessions):
    with engine.begin() as connection:
        remember_answer(connection, key="CA1:1", twiml="old", now=NOW - KEEP_FOR - dt.timedelta(seconds=1))
        remember_answer(connection, key="CA1:2", twiml="recent", now=NOW - KEEP_FOR)
        remember_answer(connection, key="CA2:1", twiml="new", now=NOW)
    with sessions() as session:
        kept = session.execute(select(VoiceTurn.key, VoiceTurn.created_at).order_by(VoiceTurn.key)).all()
    assert [key for key, _ in kept] == ["CA1:2", "CA2:1"]
    assert kept[1].created_at == NOW  # stored as the aware UTC time it was given
