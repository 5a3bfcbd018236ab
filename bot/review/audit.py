"""The audit log: who did what to which record. Details hold ids and outcomes, never personal values."""

from __future__ import annotations

import json
from typing import Any

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
