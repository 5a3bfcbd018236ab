"""What the assistant does for a person, as plain functions over a session.

The dialogue adapters (Rasa actions, voice webhooks) call these inside one transaction each and
turn the results or typed exceptions into replies. Nothing here knows about channels' wording.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from bot.cards.holders import get_cardholder, status_since
from bot.cards.loss_reports import (
    active_report,
    cancel_loss_report,
    create_loss_report,
    ensure_reportable,
    ensure_unblockable,
    lapse_expired,
)
from bot.cards.statuses import CardStatus
from bot.config import Settings
from bot.errors import (
    CardFormallyLost,
    CodeAttemptsExhausted,
    IdentityLocked,
)
from bot.identity.checks import Verified, recognise_caller, verify_identity
from bot.identity.one_time_codes import check_code, consume_verified_code, issue_code
from bot.identity.privacy import Vault, mask_name, mask_phone
from bot.models import Cardholder, LossReport
from bot.review.audit import record_audit
from bot.review.flags import flag_conversation
from bot.sms.outbox import Outbox

log = logging.getLogger(__name__)


def check_identity(
    session: Session,
    *,
    settings: Settings,
    conversation_id: str,
    channel: str,
    id_number: str,
    now: dt.datetime,
    name: str | None = None,
    caller_id: str | None = None,
    phone_last4: str | None = None,
    client: str | None = None,
) -> Verified:
    """`verify_identity`, and an ``identity_failed`` flag when the attempt ends locked."""
    with _flag_when_locked(session, conversation_id=conversation_id, channel=channel):
        return verify_identity(
            session,
            vault=Vault(settings),
            policy=settings.loss_policy,
            conversation_id=conversation_id,
            channel=channel,
            id_number=id_number,
            now=now,
            name=name,
            caller_id=caller_id,
            phone_last4=phone_last4,
            client=client,
        )


def check_caller(
    session: Session,
    *,
    settings: Settings,
    conversation_id: str,
    id_number: str,
    caller_id: str | None,
    now: dt.datetime,
    client: str | None = None,
) -> bool:
    """True when a phone caller is recognised by caller ID for this ID number (no attempt spent otherwise)."""
    with _flag_when_locked(session, conversation_id=conversation_id, channel="voice"):
        holder = recognise_caller(
            session,
            vault=Vault(settings),
            policy=settings.loss_policy,
            conversation_id=conversation_id,
            id_number=id_number,
            caller_id=caller_id,
            now=now,
            client=client,
        )
    return holder is not None


@contextmanager
def _flag_when_locked(session: Session, *, conversation_id: str, channel: str) -> Iterator[None]:
    """An identity check that ends locked puts the conversation before staff as ``identity_failed``."""
    try:
        yield
    except IdentityLocked:
        flag_conversation(session, conversation_id=conversation_id, channel=channel, reason="identity_failed")
        raise


@dataclass(frozen=True)
class CardOverview:
    """What a verified person may learn about their current card, and whose it is (`holder_masked`,
    e.g. 杨*, so the person can check the answer is about the card they mean)."""

    holder_masked: str
    status: CardStatus
    card_number: str
    office: str
    status_changed_at: dt.datetime
    active_reference: str | None
    active_expires_at: dt.datetime | None


def card_overview(session: Session, *, settings: Settings, id_number: str, now: dt.datetime) -> CardOverview:
    """The current card of a verified person, after lapsing an expired temporary report."""
    holder = get_cardholder(session, vault=Vault(settings), id_number=id_number)
    return _overview_of(session, holder, settings=settings, now=now)


def _overview_of(session: Session, holder: Cardholder, *, settings: Settings, now: dt.datetime) -> CardOverview:
    """`card_overview` of a holder already found, who has a card."""
    card = holder.current_card
    lapse_expired(session, card=card, outbox=Outbox.for_settings(settings), now=now)
    report = active_report(card)
    return CardOverview(
        holder_masked=mask_name(holder.name),
        status=CardStatus(card.status),
        card_number=card.card_number,
        office=card.office,
        status_changed_at=status_since(card),
        active_reference=report.reference if report else None,
        active_expires_at=report.expires_at if report else None,
    )


def check_identity_and_card(
    session: Session, *, settings: Settings, now: dt.datetime, **check: Any
) -> tuple[Verified, CardOverview | None]:
    """`check_identity`, and once it passes the card as `card_overview` reads it (None if there is none).

    The task that follows a check starts from the card: read in the check's transaction, the turn
    that completes the identity form makes one transaction rather than two.
    """
    verified = check_identity(session, settings=settings, now=now, **check)
    if verified.holder.current_card is None:  # the task reads again, and says so
        return verified, None
    return verified, _overview_of(session, verified.holder, settings=settings, now=now)


def check_loss_report_possible(overview: CardOverview) -> None:
    """Raise LossReportNotAllowed unless the card may be reported lost (or already is)."""
    if overview.active_reference is None:
        ensure_reportable(overview.status)


def report_card_lost(
    session: Session,
    *,
    settings: Settings,
    id_number: str,
    conversation_id: str,
    channel: str,
    now: dt.datetime,
    language: str = "zh",
) -> tuple[LossReport, bool]:
    """Create (or return the active) temporary loss report, tell the holder by SMS and flag it for staff."""
    holder = get_cardholder(session, vault=Vault(settings), id_number=id_number)
    report, created = create_loss_report(
        session,
        card_id=holder.current_card.id,
        channel=channel,
        policy=settings.loss_policy,
        outbox=Outbox.for_settings(settings),
        now=now,
        conversation_id=conversation_id,
        language=language,
    )
    if created:
        _put_before_staff(session, "loss_reported", conversation_id=conversation_id, channel=channel, report=report)
    return report, created


def check_unblock_possible(overview: CardOverview, settings: Settings) -> str:
    """The active report's reference, or CardFormallyLost / SelfServiceUnblockDisabled / NoActiveLossReport."""
    if overview.status is CardStatus.LOST:
        raise CardFormallyLost("a formally lost card cannot be unblocked")
    ensure_unblockable(settings.loss_policy, has_active_report=overview.active_reference is not None)
    return overview.active_reference


def send_unblock_code(
    session: Session,
    *,
    settings: Settings,
    id_number: str,
    conversation_id: str,
    language: str,
    now: dt.datetime,
) -> str:
    """Text a one-time code for cancelling the active report to the registered mobile; returns it masked.

    Raises SelfServiceUnblockDisabled, NoActiveLossReport, NoRegisteredMobile or TooManyCodes.
    """
    overview = card_overview(session, settings=settings, id_number=id_number, now=now)
    check_unblock_possible(overview, settings)
    holder = get_cardholder(session, vault=Vault(settings), id_number=id_number)
    issue_code(
        session,
        outbox=Outbox.for_settings(settings),
        vault=Vault(settings),
        card=holder.current_card,
        conversation_id=conversation_id,
        language=language,
        now=now,
    )
    return mask_phone(holder.phone)


def check_unblock_code(
    session: Session,
    *,
    settings: Settings,
    id_number: str,
    conversation_id: str,
    channel: str,
    code: str,
    now: dt.datetime,
) -> None:
    """Check the code typed or keyed in; the last wrong try ends the attempt and flags ``identity_failed``."""
    holder = get_cardholder(session, vault=Vault(settings), id_number=id_number)
    try:
        check_code(
            session,
            vault=Vault(settings),
            card_id=holder.current_card.id,
            conversation_id=conversation_id,
            given=code,
            now=now,
        )
    except CodeAttemptsExhausted:
        flag_conversation(
            session,
            conversation_id=conversation_id,
            channel=channel,
            reason="identity_failed",
            cardholder_id=holder.id,
        )
        raise


def unblock_card(
    session: Session,
    *,
    settings: Settings,
    id_number: str,
    conversation_id: str,
    channel: str,
    now: dt.datetime,
    language: str = "zh",
) -> LossReport:
    """Cancel the active temporary report (解挂) with the code checked in this conversation; flag it for staff.

    Raises UnblockCodeRequired when no code was checked for this card in this conversation.
    """
    holder = get_cardholder(session, vault=Vault(settings), id_number=id_number)
    card_id = holder.current_card.id
    report = cancel_loss_report(
        session,
        card_id=card_id,
        policy=settings.loss_policy,
        outbox=Outbox.for_settings(settings),
        now=now,
        language=language,
        conversation_id=conversation_id,
    )
    # Checked last so the refusals above keep their own answers; raising undoes the whole change.
    consume_verified_code(session, card_id=card_id, conversation_id=conversation_id, now=now)
    _put_before_staff(session, "loss_cancelled", conversation_id=conversation_id, channel=channel, report=report)
    return report


def _put_before_staff(session: Session, reason: str, *, conversation_id: str, channel: str, report: LossReport) -> None:
    """Flag a conversation that changed a loss report, and audit the change."""
    flag_conversation(
        session,
        conversation_id=conversation_id,
        channel=channel,
        reason=reason,
        cardholder_id=report.card.cardholder_id,
        loss_report_id=report.id,
    )
    record_audit(session, actor=f"bot:{channel}", action=reason, target_type="loss_report", target_id=report.id)
