"""What staff see of live handovers and callbacks: the lists, one conversation, the person's new
messages. Personal values are masked (a callback's number is shown only to whoever is about to
call, through `show_callback_number`); the card is shown only to the member of staff holding the
conversation. Rasa's tracker store is read with no card-database transaction open.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from bot.handover.live import (
    HandoverPolicy,
    any_overdue,
    expire_waiting,
    get_handover,
    live_queue,
    messages_after,
    open_callbacks,
)
from bot.identity.privacy import Vault, mask_phone
from bot.language.redaction import mask_text
from bot.models import Cardholder, Flag, Handover, LiveMessage
from bot.review.flag_detail import CardDetail, card_detail
from bot.review.queue import Reviewer
from bot.review.transcripts import Line, TrackerStore, transcript_or_none
from bot.sms.outbox import Outbox


@dataclass(frozen=True)
class HandoverRow:
    id: int
    channel: str
    reason: str
    task: str  # "" when the bot was not in the middle of one
    verified: bool
    created_at: dt.datetime
    waited_minutes: int
    taken_by: str | None


@dataclass(frozen=True)
class LiveLine:
    id: int
    sender: str  # "person", "staff" or "system"
    who: str  # staff:<name> for staff, else the sender
    created_at: dt.datetime
    text: str  # masked


@dataclass(frozen=True)
class HandoverDetail:
    row: HandoverRow
    state: str
    conversation_id: str
    mine: bool  # taken by the member of staff looking
    card: CardDetail | None  # only for the one holding it
    lines: tuple[LiveLine, ...]
    bot_lines: tuple[Line, ...]  # the conversation with the assistant before, masked
    transcript_unavailable: bool


@dataclass(frozen=True)
class CallbackRow:
    id: int
    channel: str
    due_at: dt.datetime
    overdue: bool
    phone: str  # masked unless it is the one just shown
    note: str
    created_at: dt.datetime


def live_board(
    read_sessions: sessionmaker[Session],
    sessions: sessionmaker[Session],
    *,
    policy: HandoverPolicy,
    outbox: Outbox,
    now: dt.datetime,
) -> tuple[tuple[HandoverRow, ...], tuple[HandoverRow, ...]]:
    """Those waiting and those with staff; whoever waited too long is offered a callback first (the
    write transaction is taken only when someone has)."""
    with read_sessions.begin() as db:
        overdue = any_overdue(db, policy=policy, now=now)
    if overdue:
        with sessions.begin() as db:
            expire_waiting(db, policy=policy, outbox=outbox, now=now)
    with read_sessions.begin() as db:
        waiting, taken = live_queue(db)
        return tuple(_row(h, now) for h in waiting), tuple(_row(h, now) for h in taken)


def _row(handover: Handover, now: dt.datetime) -> HandoverRow:
    return HandoverRow(
        id=handover.id, channel=handover.channel, reason=handover.reason, task=handover.task or "",
        verified=handover.verified, created_at=handover.created_at,
        waited_minutes=int((now - handover.created_at).total_seconds() // 60), taken_by=handover.taken_by,
    )  # fmt: skip


def _names(session: Session, handover: Handover) -> set[str]:
    holder = session.get(Cardholder, handover.cardholder_id) if handover.cardholder_id else None
    return {holder.name} if holder else set()


def _line(message: LiveMessage, names: set[str]) -> LiveLine:
    who = f"staff:{message.staff_name}" if message.sender == "staff" else message.sender
    return LiveLine(message.id, message.sender, who, message.created_at, mask_text(message.text, names))


def handover_detail(
    sessions: sessionmaker[Session],
    store: TrackerStore,
    vault: Vault,
    handover_id: int,
    *,
    me: Reviewer,
    now: dt.datetime,
) -> HandoverDetail:
    """One handover for the console; HandoverError when there is none."""
    with sessions.begin() as db:
        handover = get_handover(db, handover_id)
        names = _names(db, handover)
        mine = handover.state == "taken" and handover.taken_by_id == me.id
        holder = db.get(Cardholder, handover.cardholder_id) if mine and handover.cardholder_id else None
        card = card_detail(holder, None, vault)
        lines = tuple(_line(m, names) for m in handover.messages)
        # The flag was written in the turn that handed over, on the clock Rasa's events keep.
        flag = db.get(Flag, handover.flag_id) if handover.flag_id else None
        around = flag.created_at if flag is not None else handover.created_at
        row, state, conversation_id = _row(handover, now), handover.state, handover.conversation_id
    transcript = transcript_or_none(store, conversation_id, around=around)
    known = (transcript.names if transcript else set()) | names
    bot_lines = tuple(
        replace(line, text=mask_text(line.text, known))
        for line in (transcript.lines if transcript else [])
        if line.kind in ("user", "bot")
    )
    return HandoverDetail(row, state, conversation_id, mine, card, lines, bot_lines, transcript is None)


def new_messages(session: Session, handover_id: int, after: int) -> tuple[str, tuple[LiveLine, ...]]:
    """The handover's state and its messages after message `after` (HandoverError when there is none)."""
    handover = get_handover(session, handover_id)
    names = _names(session, handover)
    return handover.state, tuple(_line(m, names) for m in messages_after(session, handover_id, after))


def callback_list(session: Session, *, now: dt.datetime, shown: tuple[int, str] | None = None) -> list[CallbackRow]:
    """Callbacks to make, soonest due first; `shown` is a (callback id, number) just revealed to the caller."""
    return [
        CallbackRow(
            id=c.id,
            channel=c.channel,
            due_at=c.due_at,
            overdue=c.due_at <= now,
            phone=shown[1] if shown and shown[0] == c.id else mask_phone(c.phone),
            note=mask_text(c.note),
            created_at=c.created_at,
        )  # fmt: skip
        for c in open_callbacks(session)
    ]
