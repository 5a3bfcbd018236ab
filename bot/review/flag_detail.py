"""One flagged conversation as staff see it, and the reviewer actions that need its transcript.

A flag's page gathers the flag, its cardholder and card, the transcript, notes, voicemails, other
flags on the conversation and the flag's history, with every personal value masked unless an
admin has just revealed them. The transcript comes from Rasa's tracker store, which may be slow
or down: it is read between card-database transactions, never while one is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cards.statuses import CardStatus
from bot.handover.voicemails import voicemails_of
from bot.identity.privacy import Vault, mask_id_number, mask_name, mask_phone, mask_reference
from bot.language.redaction import mask_text
from bot.models import AuditEntry, Cardholder, Flag, LossReport, Voicemail
from bot.review.queue import Reviewer, ReviewError, get_flag, names_to_mask, record_reveal
from bot.review.transcripts import Line, TrackerStore, Transcript, transcript_or_none
from bot.training.labels import label_message, labels_by_message


@dataclass(frozen=True)
class ReportDetail:
    reference: str
    state: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class CardDetail:
    """A cardholder and their current card; masked unless revealed."""

    name: str
    id_number: str
    phone: str
    card_number: str  # "" when the holder has no card
    status: CardStatus | None
    office: str
    report: ReportDetail | None = None


@dataclass(frozen=True)
class NoteDetail:
    author: str
    created_at: dt.datetime
    text: str


@dataclass(frozen=True)
class VoicemailDetail:
    cause: str
    created_at: dt.datetime
    duration_seconds: int | None
    recording_url: str | None  # Twilio's media URL, once the recording is ready
    recording_state: str | None  # "pending", "absent" or "failed" until it is; None once ready


@dataclass(frozen=True)
class OtherFlag:
    id: int
    reason: str
    status: str


@dataclass(frozen=True)
class HistoryEntry:
    created_at: dt.datetime
    actor: str
    action: str


@dataclass(frozen=True)
class FlagDetail:
    id: int
    reason: str
    status: str
    channel: str
    conversation_id: str
    created_at: dt.datetime
    assignee: str | None
    system_note: str | None
    card: CardDetail | None
    lines: tuple[Line, ...]
    transcript_unavailable: bool
    labels: dict[str, str]  # message id -> the intent a reviewer gave it
    notes: tuple[NoteDetail, ...]
    voicemails: tuple[VoicemailDetail, ...]
    others: tuple[OtherFlag, ...]  # other flags on the same conversation
    history: tuple[HistoryEntry, ...]
    revealed: bool


@dataclass(frozen=True)
class FlagPlace:
    """Where a flag's transcript is: its conversation, and the moment that picks the Rasa session."""

    conversation_id: str
    created_at: dt.datetime


def _place(session: Session, flag_id: int) -> FlagPlace:
    flag = get_flag(session, flag_id)
    return FlagPlace(flag.conversation_id, flag.created_at)


def _transcript(store: TrackerStore, place: FlagPlace) -> Transcript | None:
    return transcript_or_none(store, place.conversation_id, around=place.created_at)


def card_detail(
    holder: Cardholder | None, report: LossReport | None, vault: Vault, *, revealed: bool = False
) -> CardDetail | None:
    if holder is None:
        return None
    id_number = vault.decrypt(holder.id_cipher)
    card = holder.current_card
    return CardDetail(
        name=holder.name if revealed else mask_name(holder.name),
        id_number=id_number if revealed else mask_id_number(id_number),
        phone=holder.phone if revealed else mask_phone(holder.phone),
        card_number=(card.card_number if revealed else mask_text(card.card_number)) if card else "",
        status=CardStatus(card.status) if card else None,
        office=card.office if card else "",
        # One rule with the transcript (bot.language.redaction): the reference is masked until revealed.
        report=None
        if report is None
        else ReportDetail(
            report.reference if revealed else mask_reference(report.reference), report.state, report.expires_at
        ),
    )


def flag_detail(
    session: Session, flag_id: int, *, transcript: Transcript | None, vault: Vault, revealed: bool = False
) -> FlagDetail:
    """The flag's page; `transcript` is None when the tracker store could not be read."""
    flag = get_flag(session, flag_id)
    holder = session.get(Cardholder, flag.cardholder_id) if flag.cardholder_id else None
    report = session.get(LossReport, flag.loss_report_id) if flag.loss_report_id else None
    # Names the person gave in the conversation are masked wherever staff wrote them too.
    names = names_to_mask(holder, transcript.names if transcript else ())
    shown: Callable[[str], str] = (lambda text: text) if revealed else (lambda text: mask_text(text, names))
    history = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.target_type == "flag", AuditEntry.target_id == str(flag.id))
        .order_by(AuditEntry.created_at, AuditEntry.id)
    )
    others = session.execute(
        select(Flag.id, Flag.reason, Flag.status)
        .where(Flag.conversation_id == flag.conversation_id, Flag.id != flag.id)
        .order_by(Flag.id)
    )
    lines = transcript.lines if transcript else []
    return FlagDetail(
        id=flag.id,
        reason=flag.reason,
        status=flag.status,
        channel=flag.channel,
        conversation_id=flag.conversation_id,
        created_at=flag.created_at,
        assignee=flag.assignee.username if flag.assignee else None,
        system_note=shown(flag.note) if flag.note else None,
        card=card_detail(holder, report, vault, revealed=revealed),
        lines=tuple(replace(line, text=shown(line.text) if line.kind != "action" else line.text) for line in lines),
        transcript_unavailable=transcript is None,
        labels=labels_by_message(session, flag.conversation_id),
        notes=tuple(NoteDetail(n.author.username if n.author else "", n.created_at, shown(n.text)) for n in flag.notes),
        voicemails=tuple(_voicemail(v) for v in voicemails_of(session, flag)),
        others=tuple(OtherFlag(*row) for row in others),
        history=tuple(HistoryEntry(e.created_at, e.actor, e.action) for e in history),
        revealed=revealed,
    )


def _voicemail(voicemail: Voicemail) -> VoicemailDetail:
    ready = voicemail.recording_status == "completed" and voicemail.recording_url
    return VoicemailDetail(
        cause=voicemail.cause,
        created_at=voicemail.created_at,
        duration_seconds=voicemail.duration_seconds,
        recording_url=voicemail.recording_url if ready else None,
        recording_state=None if ready else voicemail.recording_status.replace("in-progress", "pending"),
    )


def show_flag(
    sessions: sessionmaker[Session], store: TrackerStore, vault: Vault, flag_id: int, *, revealed: bool = False
) -> FlagDetail:
    """The flag's page, masked unless `revealed`; ReviewError when there is no such flag."""
    with sessions.begin() as db:
        place = _place(db, flag_id)
    transcript = _transcript(store, place)
    with sessions.begin() as db:
        return flag_detail(db, flag_id, transcript=transcript, vault=vault, revealed=revealed)


def reveal_flag(
    sessions: sessionmaker[Session], store: TrackerStore, vault: Vault, flag_id: int, reason: str, by: Reviewer
) -> FlagDetail:
    """An admin's reveal: audited with its reason (masked by the names said in the conversation), and
    the page with the personal data in full, read in the transaction that records it."""
    with sessions.begin() as db:
        place = _place(db, flag_id)
    transcript = _transcript(store, place)
    with sessions.begin() as db:
        record_reveal(db, flag_id, reason, by, said_names=transcript.names if transcript else ())
        return flag_detail(db, flag_id, transcript=transcript, vault=vault, revealed=True)


def label_flag_message(
    sessions: sessionmaker[Session], store: TrackerStore, flag_id: int, *, message_id: str, intent: str, by: Reviewer
) -> None:
    """A reviewer's label for one of the flagged conversation's messages (needs the transcript)."""
    with sessions.begin() as db:
        place = _place(db, flag_id)
    transcript = _transcript(store, place)
    if transcript is None:
        raise ReviewError("the transcript cannot be read", "transcript_unavailable")
    with sessions.begin() as db:
        flag = get_flag(db, flag_id)
        holder = db.get(Cardholder, flag.cardholder_id) if flag.cardholder_id else None
        label_message(
            db, flag=flag, transcript=transcript, message_id=message_id, intent=intent,
            known_names=names_to_mask(holder), by=by,
        )  # fmt: skip
