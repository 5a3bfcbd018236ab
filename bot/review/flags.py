"""Flagging conversations for staff review."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import FLAG_REASONS, FLAG_STATUSES, Flag


def flag_conversation(
    session: Session,
    *,
    conversation_id: str,
    channel: str,
    reason: str,
    cardholder_id: int | None = None,
    loss_report_id: int | None = None,
    note: str | None = None,
) -> Flag:
    """Flag a conversation; while a flag for the same reason is open it is reused (retries are safe)."""
    if reason not in FLAG_REASONS:
        raise ValueError(f"unknown flag reason {reason!r}")
    existing = session.scalars(
        select(Flag).where(Flag.conversation_id == conversation_id, Flag.reason == reason, Flag.status == "open")
    ).first()
    if existing is not None:
        existing.cardholder_id = existing.cardholder_id or cardholder_id
        existing.loss_report_id = existing.loss_report_id or loss_report_id
        session.flush()
        return existing
    flag = Flag(
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        status="open",
        note=note,
        cardholder_id=cardholder_id,
        loss_report_id=loss_report_id,
    )
    session.add(flag)
    session.flush()
    return flag


def list_flags(
    session: Session, *, status: str | None = None, reason: str | None = None, limit: int = 500
) -> list[Flag]:
    """Flags newest first, optionally filtered by status and reason."""
    if status is not None and status not in FLAG_STATUSES:
        raise ValueError(f"unknown flag status {status!r}; known: {', '.join(FLAG_STATUSES)}")
    if reason is not None and reason not in FLAG_REASONS:
        raise ValueError(f"unknown flag reason {reason!r}; known: {', '.join(FLAG_REASONS)}")
    query = select(Flag).order_by(Flag.created_at.desc(), Flag.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Flag.status == status)
    if reason is not None:
        query = query.where(Flag.reason == reason)
    return list(session.scalars(query))


def describe_flag(flag: Flag, tz: ZoneInfo) -> dict[str, Any]:
    created: dt.datetime = flag.created_at
    return {
        "id": flag.id,
        "conversation_id": flag.conversation_id,
        "channel": flag.channel,
        "reason": flag.reason,
        "status": flag.status,
        "created": created.astimezone(tz).isoformat(),
    }
