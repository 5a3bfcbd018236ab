"""The audit log: who did what to which record. Details hold ids and outcomes, never personal values."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import AuditEntry


def record_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target_type: str,
    target_id: int | str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an audit entry to the session (committed with the change it describes)."""
    entry = AuditEntry(
        actor=actor,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=json.dumps(detail, ensure_ascii=False, sort_keys=True) if detail else None,
    )
    session.add(entry)
    return entry


@dataclass(frozen=True)
class AuditLine:
    created_at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str | None
    detail: str | None  # JSON


def recent_audit(session: Session, *, limit: int = 200) -> list[AuditLine]:
    """The latest entries, newest first."""
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
    return [AuditLine(e.created_at, e.actor, e.action, e.target_type, e.target_id, e.detail) for e in entries]
