"""The review queue: finding flagged conversations and what staff do with them.

Every change a reviewer makes is written to the audit log in the same transaction, as
`staff:<username>` with the flag id and the old and new values (never personal data).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload, sessionmaker
from sqlalchemy.sql import Select

from bot.errors import BotError
from bot.language.redaction import mask_text
from bot.models import FLAG_REASONS, FLAG_STATUSES, Cardholder, Flag, FlagNote, StaffUser, utcnow
from bot.review.audit import record_audit
from bot.review.flags import describe_flag
from bot.review.summaries import Summary, summarise
from bot.review.transcripts import TrackerStore, TrackerStoreUnavailable

log = logging.getLogger(__name__)
CHANNELS = ("chat", "sms", "voice")
MAX_NOTE_LENGTH = 2000


MAX_ID = 2**31 - 1  # ids are 32-bit integers on every backend


class ReviewError(BotError, ValueError):
    """A review action that cannot be carried out (unknown flag, empty note, wrong kind of flag).

    `code` names the refusal so the console can say it in the reviewer's language.
    """

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Reviewer:
    """The member of staff acting; kept apart from the ORM object so it outlives a session."""

    id: int
    username: str
    role: str
    epoch: int = 0  # the account's session epoch when this member of staff signed in

    @property
    def actor(self) -> str:
        return f"staff:{self.username}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows; every field is optional. Dates are local days in the city's zone."""

    reason: str | None = None
    status: str | None = None
    channel: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def __post_init__(self) -> None:
        for value, known, what in (
            (self.reason, FLAG_REASONS, "reason"),
            (self.status, FLAG_STATUSES, "status"),
            (self.channel, CHANNELS, "channel"),
        ):
            if value is not None and value not in known:
                raise ReviewError(f"unknown {what} {value!r}", "unknown_filter")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ReviewError("the start date is after the end date", "date_order")

    def in_force(self) -> dict[str, str]:
        """The filters set, as text (for links to the same view and the audit log)."""
        return {name: str(value) for name, value in vars(self).items() if value}

    def apply(self, query: Select, tz: ZoneInfo, *, with_reason: bool = True) -> Select:
        if with_reason and self.reason:
            query = query.where(Flag.reason == self.reason)
        if self.status:
            query = query.where(Flag.status == self.status)
        if self.channel:
            query = query.where(Flag.channel == self.channel)
        if self.date_from:
            query = query.where(Flag.created_at >= _local_midnight(self.date_from, tz))
        if self.date_to:
            query = query.where(Flag.created_at < _local_midnight(self.date_to + dt.timedelta(days=1), tz))
        return query


def _local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tz)


@dataclass(frozen=True)
class QueuePage:
    flags: list[Flag]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def queue_page(session: Session, where: QueueFilter, tz: ZoneInfo, *, page: int = 1, per_page: int = 25) -> QueuePage:
    """One page of the queue, newest first; a page past the end gives the last page."""
    total = session.scalar(where.apply(select(func.count(Flag.id)), tz)) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    query = (
        where.apply(select(Flag), tz)
        .options(selectinload(Flag.assignee))
        .order_by(Flag.created_at.desc(), Flag.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    return QueuePage(list(session.scalars(query)), total, page, per_page)


@dataclass(frozen=True)
class QueueRow:
    id: int
    created_at: dt.datetime
    reason: str
    status: str
    channel: str
    assignee: str | None
    summary: Summary


@dataclass(frozen=True)
class QueueView:
    """One page of the queue as a reviewer sees it, with the number of matches per reason."""

    rows: tuple[QueueRow, ...]
    counts: dict[str, int]
    total: int
    page: int
    pages: int


def show_queue(
    sessions: sessionmaker[Session], store: TrackerStore, where: QueueFilter, tz: ZoneInfo, *, page: int = 1
) -> QueueView:
    """A page of the queue with each row's summary. What the tracker store says of the conversations
    is read between two transactions; when it cannot be read, summaries say only what flags tell."""
    with sessions.begin() as db:
        found = queue_page(db, where, tz, page=page)
        counts = reason_counts(db, where, tz)
    try:
        facts = store.facts([flag.conversation_id for flag in found.flags])
    except TrackerStoreUnavailable as error:
        log.warning("conversation summaries unavailable: %s", error)
        facts = {}
    with sessions.begin() as db:
        summaries = summarise(db, found.flags, facts)
    rows = tuple(
        QueueRow(f.id, f.created_at, f.reason, f.status, f.channel, f.assignee and f.assignee.username, summaries[f.id])
        for f in found.flags
    )
    return QueueView(rows, counts, found.total, found.page, found.pages)


def all_matching(session: Session, where: QueueFilter, tz: ZoneInfo) -> Iterable[Flag]:
    """Every flag the filter matches, newest first (for the CSV export)."""
    query = where.apply(select(Flag), tz).options(selectinload(Flag.assignee), selectinload(Flag.reviewer))
    return session.scalars(query.order_by(Flag.created_at.desc(), Flag.id.desc()).execution_options(yield_per=500))


# The export's columns: describe_flag's (as `python -m bot flags list --json` has them), then who and when.
EXPORT_COLUMNS = ("id", "created", "channel", "reason", "status", "conversation_id", "assignee", "reviewer", "reviewed")


def export_rows(session: Session, where: QueueFilter, tz: ZoneInfo) -> Iterator[dict[str, Any]]:
    """Every flag the filter matches as a row of EXPORT_COLUMNS, each cell safe to open in a spreadsheet."""
    for flag in all_matching(session, where, tz):
        row = {
            **describe_flag(flag, tz),
            "assignee": flag.assignee.username if flag.assignee else "",
            "reviewer": flag.reviewer.username if flag.reviewer else "",
            "reviewed": flag.reviewed_at.astimezone(tz).isoformat() if flag.reviewed_at else "",
        }
        yield {key: spreadsheet_safe(value) for key, value in row.items()}


def record_export(session: Session, where: QueueFilter, *, rows: int, by: Reviewer) -> None:
    record_audit(session, actor=by.actor, action="queue_exported", target_type="flag",
                 detail={"rows": rows, **where.in_force()})  # fmt: skip


def reason_counts(session: Session, where: QueueFilter, tz: ZoneInfo) -> dict[str, int]:
    """How many flags per reason match the other filters (every reason listed, zeros included)."""
    query = where.apply(select(Flag.reason, func.count(Flag.id)), tz, with_reason=False).group_by(Flag.reason)
    counts = dict(session.execute(query).all())
    return {reason: counts.get(reason, 0) for reason in FLAG_REASONS}


def get_flag(session: Session, flag_id: int) -> Flag:
    if not 0 < flag_id <= MAX_ID:
        raise ReviewError(f"there is no flag {flag_id}", "no_flag")
    flag = session.get(Flag, flag_id, options=[selectinload(Flag.notes).selectinload(FlagNote.author)])
    if flag is None:
        raise ReviewError(f"there is no flag {flag_id}", "no_flag")
    return flag


def set_status(session: Session, flag_id: int, status: str, by: Reviewer) -> Flag:
    """Mark a flag reviewed or escalated (open again is not a review outcome)."""
    if status not in ("reviewed", "escalated"):
        raise ReviewError(f"a flag can be marked reviewed or escalated, not {status!r}")
    flag = get_flag(session, flag_id)
    previous = flag.status
    if previous != status:
        flag.status = status
        flag.reviewer_id = by.id
        flag.reviewed_at = utcnow()
        record_audit(
            session, actor=by.actor, action=f"flag_{status}", target_type="flag", target_id=flag.id,
            detail={"from": previous, "to": status},
        )  # fmt: skip
    session.flush()
    return flag


def mark_reviewed_in_bulk(session: Session, flag_ids: Iterable[int], by: Reviewer) -> int:
    """Mark several open `loss_reported` flags reviewed at once; any other kind refuses the whole batch.

    Escalated ones are left as they are: someone asked for a closer look at those.
    """
    ids = sorted(set(flag_ids))
    if any(not 0 < flag_id <= MAX_ID for flag_id in ids):
        raise ReviewError("some of the chosen flags no longer exist", "no_flag")
    if not ids:
        raise ReviewError("choose at least one flag", "bulk_empty")
    flags = list(session.scalars(select(Flag).where(Flag.id.in_(ids))))
    if len(flags) != len(ids):
        raise ReviewError("some of the chosen flags no longer exist", "no_flag")
    if any(flag.reason != "loss_reported" for flag in flags):
        raise ReviewError("only loss report flags can be marked reviewed in bulk", "bulk_loss_only")
    changed = [flag.id for flag in flags if flag.status == "open"]
    for flag_id in changed:
        set_status(session, flag_id, "reviewed", by)
    return len(changed)


def assign_to(session: Session, flag_id: int, by: Reviewer) -> Flag:
    """Take a flag on: it shows as the reviewer's."""
    flag = get_flag(session, flag_id)
    previous = flag.assignee_id
    if previous != by.id:
        flag.assignee_id = by.id
        record_audit(
            session, actor=by.actor, action="flag_assigned", target_type="flag", target_id=flag.id,
            detail={"from": previous, "to": by.id},
        )  # fmt: skip
    session.flush()
    return flag


def add_note(session: Session, flag_id: int, text: str, by: Reviewer) -> FlagNote:
    text = text.strip()
    if not text:
        raise ReviewError("the note is empty", "note_empty")
    if len(text) > MAX_NOTE_LENGTH:
        raise ReviewError(f"notes are at most {MAX_NOTE_LENGTH} characters", "note_long")
    flag = get_flag(session, flag_id)
    note = FlagNote(flag_id=flag.id, author_id=by.id)
    session.add(note)
    note.text = text  # encrypted with the session's keys, so the note is set once it is in the session
    session.flush()
    record_audit(
        session, actor=by.actor, action="flag_note_added", target_type="flag", target_id=flag.id,
        detail={"note_id": note.id},
    )  # fmt: skip
    return note


def names_to_mask(holder: Cardholder | None, said: Iterable[str] = ()) -> set[str]:
    """The names staff must not see in a flagged conversation: the cardholder's and those `said` in it."""
    return ({holder.name} if holder else set()) | set(said)


def record_reveal(session: Session, flag_id: int, reason: str, by: Reviewer, *, said_names: Iterable[str] = ()) -> Flag:
    """An admin is shown the personal data of a flagged conversation; the reason is kept in the audit log.

    `said_names` are the names given in the conversation: a reason quoting them is masked too.
    """
    if not by.is_admin:
        raise ReviewError("only an admin can reveal personal data", "admins_only")
    reason = reason.strip()
    if len(reason) < 5:
        raise ReviewError("give a reason of at least 5 characters", "reveal_reason")
    flag = get_flag(session, flag_id)
    # The audit log is kept in clear for admins to read: a reason quoting the person is masked.
    holder = session.get(Cardholder, flag.cardholder_id) if flag.cardholder_id else None
    names = names_to_mask(holder, said_names)
    record_audit(
        session, actor=by.actor, action="personal_data_revealed", target_type="flag", target_id=flag.id,
        detail={"reason": mask_text(reason, names)[:500]},
    )  # fmt: skip
    session.flush()
    return flag


def load_reviewer(session: Session, user_id: int, epoch: int) -> Reviewer | None:
    """The active staff user with this id, if signed in since the account's last sign-out; else None.

    A deactivated account, or a session from before the user signed out, loses access at once.
    """
    user = session.get(StaffUser, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return Reviewer(user.id, user.username, user.role, user.session_epoch)


# A cell starting with one of these is a formula to a spreadsheet program (OWASP "CSV injection"),
# full-width forms included, which some programs fold.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet would run as a formula, quoted so it is shown as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
