"""Remembering what the hotline answered to each step of a call, so replays have no second effect.

Twilio retries a webhook it got no answer to, with the same URL and parameters; each step's URL
carries a step number, so `CallSid:step` names the step. The first answer is kept for a day,
encrypted by the caller (it may read back an ID number); each new answer clears the older ones,
and the retention job (`python -m bot tracker purge`) clears them too when no calls come in.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import VoiceTurn

KEEP_FOR = dt.timedelta(days=1)


def remembered_answer(session: Session, *, key: str) -> str | None:
    turn = session.get(VoiceTurn, key)
    return turn.twiml if turn else None


def remember_answer(session: Session, *, key: str, twiml: str, now: dt.datetime) -> str:
    """Keep `twiml` for `key`; if a concurrent replay kept one first, return that one instead."""
    session.execute(delete(VoiceTurn).where(VoiceTurn.created_at < now - KEEP_FOR))
    try:
        with session.begin_nested():
            session.add(VoiceTurn(key=key, twiml=twiml, created_at=now))
    except IntegrityError:
        return session.get(VoiceTurn, key).twiml
    return twiml


def purge_voice_turns(session: Session, *, before: dt.datetime) -> int:
    """Delete the answers kept before `before`; return how many went."""
    return session.execute(delete(VoiceTurn).where(VoiceTurn.created_at < before)).rowcount
