"""Inbound SMS already answered, so a captured request replayed to the webhook is not a second turn.

Twilio's signature covers the URL and parameters but no timestamp: a signed request stays valid
for ever. Each message has a unique MessageSid; the first request to claim it wins (a primary key
makes that atomic across processes). Claims are kept for `KEEP_FOR`, long after any Twilio retry.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.models import SeenSms

KEEP_FOR = dt.timedelta(days=30)


def claim_message(session: Session, *, message_sid: str, now: dt.datetime) -> bool:
    """True the first time `message_sid` is seen, False for a replay (or a concurrent duplicate)."""
    session.execute(delete(SeenSms).where(SeenSms.created_at < now - KEEP_FOR))
    try:
        with session.begin_nested():
            session.add(SeenSms(message_sid=message_sid, created_at=now))
    except IntegrityError:
        return False
    return True
