"""Remembering what the hotline answered to each step of a call, so replays have no second effect.

Twilio retries a webhook it got no answer to, with the same URL and parameters; each step's URL
carries a step number, so `CallSid:step` names the step. The first answer is kept for a day,
encrypted by the caller (it may read back an ID number); each new answer clears the older ones,
and the retention job (`python -m bot tracker purge`) clears them too when no calls come in.

Every caller turn reads and writes here, so both run as Core statements on a bare connection: with
an ORM session (a savepoint around the insert, then the flush) they were 3.6 ms of the web app's
CPU per webhook, a third of a caller turn's (py-spy, 2026-12-01).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot.models import VoiceTurn

KEEP_FOR = dt.timedelta(days=1)

_ANSWER = select(VoiceTurn.twiml).where(VoiceTurn.key == bindparam("key"))
_EXPIRED = delete(VoiceTurn).where(VoiceTurn.created_at < bindparam("before"))
# The first answer kept for a step stays: a concurrent replay's insert does nothing.
_KEEP_FIRST = {
    "sqlite": sqlite.insert(VoiceTurn).on_conflict_do_nothing(index_elements=[VoiceTurn.key]),
    "postgresql": postgresql.insert(VoiceTurn).on_conflict_do_nothing(index_elements=[VoiceTurn.key]),
}


def remembered_answer(connection: Connection, *, key: str) -> str | None:
    return connection.execute(_ANSWER, {"key": key}).scalar()


def remember_answer(connection: Connection, *, key: str, twiml: str, now: dt.datetime) -> str:
    """Keep `twiml` for `key` in the connection's transaction; if a concurrent replay kept one
    first, return that one instead."""
    connection.execute(_EXPIRED, {"before": now - KEEP_FOR})
    kept = connection.execute(_KEEP_FIRST[connection.dialect.name], {"key": key, "twiml": twiml, "created_at": now})
    if kept.rowcount == 1:
        return twiml
    return connection.execute(_ANSWER, {"key": key}).scalar_one()


def purge_voice_turns(session: Session, *, before: dt.datetime) -> int:
    """Delete the answers kept before `before`; return how many went."""
    return session.execute(_EXPIRED, {"before": before}).rowcount
