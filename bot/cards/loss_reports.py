"""Temporary loss reports (临时挂失): create, cancel (解挂), lapse, and their reference numbers.

A report takes effect when its transaction commits. Creating one is idempotent per card: while a
report is active, asking again returns it. The card row is locked first (PostgreSQL), SQLite
serialises writers, and a partial unique index keeps at most one active report per card.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cards.holders import lock_card, record_status
from bot.cards.statuses import HELD_BY_CITIZEN, CardStatus
from bot.config import LossPolicy
from bot.errors import LossReportNotAllowed, NoActiveLossReport, SelfServiceUnblockDisabled
from bot.models import LOSS_CHANNELS, Card, LossReport
from bot.sms.outbox import Outbox

log = logging.getLogger(__name__)

REFERENCE_LENGTH = 10


def luhn_check_digit(digits: str) -> str:
    """The Luhn check digit for `digits`, so a mistyped reference is caught on the keypad."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


def is_reference(text: str) -> bool:
    """True for a well-formed 10-digit reference with a correct check digit."""
    return (
        len(text) == REFERENCE_LENGTH and text.isascii() and text.isdigit() and luhn_check_digit(text[:-1]) == text[-1]
    )


def _new_reference(session: Session) -> str:
    while True:
        body = str(secrets.randbelow(9 * 10 ** (REFERENCE_LENGTH - 2)) + 10 ** (REFERENCE_LENGTH - 2))
        reference = body + luhn_check_digit(body)
        if session.scalars(select(LossReport.id).where(LossReport.reference == reference)).first() is None:
            return reference


def active_report(card: Card) -> LossReport | None:
    return next((r for r in card.loss_reports if r.state == "active"), None)


def _close(report: LossReport, card: Card, *, state: str, now: dt.datetime, restore: bool) -> None:
    report.state = state
    report.closed_at = now
    if restore and card.status == CardStatus.LOSS_REPORTED.value:
        record_status(card, CardStatus(report.previous_status), at=now, source=f"loss_{state}")


def lapse_expired(session: Session, *, card: Card, outbox: Outbox, now: dt.datetime) -> bool:
    """Lapse the card's active report if it is past expiry; the card gets its old status back.

    The holder is told by SMS, queued in the same transaction.
    """
    report = active_report(card)
    if report is None or report.expires_at > now:
        return False
    _close(report, card, state="lapsed", now=now, restore=True)
    session.flush()
    outbox.notify(session, kind="lapsed", card=card, key=f"lapsed:{report.id}", now=now, reference=report.reference)
    log.info("loss report lapsed", extra={"loss_report_id": report.id, "card_id": card.id})
    return True


def lapse_all_expired(session: Session, *, outbox: Outbox, now: dt.datetime) -> int:
    """Lapse every report past its expiry (the `loss lapse` command); returns how many."""
    card_ids = session.scalars(
        select(LossReport.card_id).where(LossReport.state == "active", LossReport.expires_at <= now)
    ).all()
    return sum(lapse_expired(session, card=lock_card(session, card_id), outbox=outbox, now=now) for card_id in card_ids)


def ensure_reportable(status: CardStatus) -> None:
    """Raise LossReportNotAllowed unless the citizen holds a card in this status."""
    if status not in HELD_BY_CITIZEN:
        raise LossReportNotAllowed(f"a card that is {status.value} cannot be reported lost")


def ensure_unblockable(policy: LossPolicy, *, has_active_report: bool, self_service: bool = True) -> None:
    """Raise SelfServiceUnblockDisabled or NoActiveLossReport unless the report may be cancelled."""
    if self_service and not policy.self_service_unblock:
        raise SelfServiceUnblockDisabled("loss reports are cancelled at a service hall in this city")
    if not has_active_report:
        raise NoActiveLossReport("there is no active temporary loss report on this card")


def create_loss_report(
    session: Session,
    *,
    card_id: int,
    channel: str,
    policy: LossPolicy,
    outbox: Outbox,
    now: dt.datetime,
    conversation_id: str | None = None,
    language: str | None = None,
) -> tuple[LossReport, bool]:
    """Report the card lost at once; returns (report, created). A second call returns the same one.

    A new report queues an SMS to the holder in the same transaction, in `language` if given.

    Raises LossReportNotAllowed when the citizen does not hold the card (not yet collected,
    already formally lost, cancelled).
    """
    if channel not in LOSS_CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    card = lock_card(session, card_id)
    lapse_expired(session, card=card, outbox=outbox, now=now)
    existing = active_report(card)
    if existing is not None:
        return existing, False
    status = CardStatus(card.status)
    ensure_reportable(status)
    report = LossReport(
        reference=_new_reference(session),
        channel=channel,
        state="active",
        previous_status=status.value,
        conversation_id=conversation_id,
        created_at=now,
        expires_at=now + dt.timedelta(days=policy.validity_days),
    )
    card.loss_reports.append(report)
    record_status(card, CardStatus.LOSS_REPORTED, at=now, source="loss_reported")
    session.flush()
    outbox.notify(
        session,
        kind="loss_reported",
        card=card,
        key=f"loss_reported:{report.id}",
        now=now,
        language=language,
        reference=report.reference,
        conversation_id=conversation_id,
        expires_date=report.expires_at,
    )
    log.info("loss report created", extra={"loss_report_id": report.id, "card_id": card.id, "channel": channel})
    return report, True


def cancel_loss_report(
    session: Session,
    *,
    card_id: int,
    policy: LossPolicy,
    outbox: Outbox,
    now: dt.datetime,
    self_service: bool = True,
    language: str | None = None,
    conversation_id: str | None = None,
) -> LossReport:
    """Cancel the active temporary report (解挂); the card returns to the status it had.

    Self-service cancellation (chat, phone) is refused when the deployment switched it off. The
    holder is told by SMS, queued in the same transaction.
    """
    card = lock_card(session, card_id)
    lapse_expired(session, card=card, outbox=outbox, now=now)
    report = active_report(card)
    ensure_unblockable(policy, has_active_report=report is not None, self_service=self_service)
    _close(report, card, state="cancelled", now=now, restore=True)
    session.flush()
    outbox.notify(
        session,
        kind="unblocked",
        card=card,
        key=f"unblocked:{report.id}",
        now=now,
        language=language,
        reference=report.reference,
        conversation_id=conversation_id,
    )
    log.info("loss report cancelled", extra={"loss_report_id": report.id, "card_id": card.id})
    return report


def close_active_report(session: Session, *, card: Card, formalised: bool, now: dt.datetime) -> None:
    """Close the active report when staff or an import moves the card on: ``lost`` formalises it."""
    report = active_report(card)
    if report is not None:
        _close(report, card, state="formalised" if formalised else "cancelled", now=now, restore=False)
