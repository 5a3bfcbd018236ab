"""Outbound SMS: queued in the transaction of the change that causes them, sent by the worker.

`Outbox.notify` writes a message beside a loss report, a lapse, an unblock, a one-time code or a
card made ready, so a message exists exactly when its change committed. Workers then `claim`
due messages one at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers never
take the same one), send them and `settle` the outcome. A claimed message whose worker vanished
is reclaimed after a lease and first looked up at Twilio, so a crash between sending and
recording never sends it twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from bot.config import Settings, SmsSettings
from bot.identity.privacy import Vault, mask_phone
from bot.language.phones import is_mobile
from bot.language.text import format_date
from bot.models import Card, OutboundMessage, SmsOptOut
from bot.review.flags import flag_conversation
from bot.sms.texts import render

log = logging.getLogger(__name__)

# Notices a holder may switch off by replying 退订/TD/STOP; security notices and codes always go.
OPTIONAL_KINDS = frozenset({"card_ready"})
RECIPIENT_PURPOSE = "sms-recipient"


class Outbox:
    """Queues messages to cardholders, encrypted, with the deployment's keys and wording values."""

    def __init__(self, vault: Vault, *, hotline: str, timezone: ZoneInfo) -> None:
        self._vault = vault
        self._hotline = hotline
        self._timezone = timezone

    @classmethod
    def for_settings(cls, settings: Settings) -> Outbox:
        return cls(Vault(settings), hotline=settings.service.hotline, timezone=settings.timezone)

    def recipient_token(self, phone: str) -> str:
        return recipient_token(self._vault, phone)

    def date(self, moment: dt.datetime, language: str) -> str:
        return format_date(moment, language, self._timezone)

    def notify(
        self,
        session: Session,
        *,
        kind: str,
        card: Card,
        key: str,
        now: dt.datetime,
        language: str | None = None,
        reference: str | None = None,
        conversation_id: str | None = None,
        **values: Any,
    ) -> OutboundMessage | None:
        """Queue a `kind` message to the card's registered mobile; None when opted out or already queued."""
        phone = card.cardholder.phone
        if not is_mobile(phone):
            log.info("sms not queued: no registered mobile", extra={"card_id": card.id, "kind": kind})
            return None
        token = self.recipient_token(phone)
        if kind in OPTIONAL_KINDS and session.get(SmsOptOut, token) is not None:
            return None
        if session.scalars(select(OutboundMessage.id).where(OutboundMessage.key == key)).first() is not None:
            return None
        language = language or last_language(session, card_id=card.id)
        # Dates are written as the holder reads them, in the city's time zone.
        shown = {k: self.date(v, language) if isinstance(v, dt.datetime) else v for k, v in values.items()}
        body = render(kind, language, hotline=self._hotline, reference=reference, **shown)
        return self._queue(
            session, kind=kind, to=phone, body=body, key=key, now=now, language=language, reference=reference,
            card_id=card.id, conversation_id=conversation_id,
        )  # fmt: skip

    def send_text(
        self, session: Session, *, to: str, body: str, key: str, language: str, conversation_id: str, now: dt.datetime
    ) -> OutboundMessage:
        """Queue a text written in a conversation with staff to the person's own number (who texted us)."""
        return self._queue(
            session, kind="handover", to=to, body=body, key=key, now=now, language=language, reference=None,
            card_id=None, conversation_id=conversation_id,
        )  # fmt: skip

    def _queue(
        self,
        session: Session,
        *,
        kind: str,
        to: str,
        body: str,
        key: str,
        now: dt.datetime,
        language: str,
        reference: str | None,
        card_id: int | None,
        conversation_id: str | None,
    ) -> OutboundMessage:
        message = OutboundMessage(
            key=key,
            kind=kind,
            language=language,
            to_cipher=self._vault.encrypt(to),
            to_token=self.recipient_token(to),
            body_cipher=self._vault.encrypt(body),
            reference=reference,
            card_id=card_id,
            conversation_id=conversation_id,
            state="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        session.add(message)
        session.flush()
        log.info("sms queued", extra={"outbound_message_id": message.id, "kind": kind})
        return message


def recipient_token(vault: Vault, phone: str) -> str:
    """The keyed token that stands for a number in the outbox and the opt-out list."""
    return vault.keyed_token(phone, purpose=RECIPIENT_PURPOSE)


def last_language(session: Session, *, card_id: int) -> str:
    """The language of the latest message to this card's holder (the one they last used), else Mandarin."""
    language = session.scalars(
        select(OutboundMessage.language).where(OutboundMessage.card_id == card_id).order_by(OutboundMessage.id.desc())
    ).first()
    return language or "zh"


def set_opt_out(session: Session, *, token: str, opted_out: bool, now: dt.datetime) -> None:
    """Stop (or resume) the optional notices for a number."""
    if not opted_out:
        session.execute(delete(SmsOptOut).where(SmsOptOut.to_token == token))
    elif session.get(SmsOptOut, token) is None:
        session.add(SmsOptOut(to_token=token, created_at=now))
    session.flush()


# ---- the worker's side -------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A message a worker holds, decrypted for sending; `recovering` when a worker may have sent it before."""

    id: int
    to: str
    body: str
    recovering: bool
    since: dt.datetime


def claim(session: Session, *, vault: Vault, sms: SmsSettings, now: dt.datetime) -> Claimed | None:
    """Take the oldest due message (or one whose worker's lease ran out) for this worker, or None."""
    lease_over = now - dt.timedelta(seconds=sms.lease_seconds)
    message = session.scalars(
        select(OutboundMessage)
        .where(
            or_(
                (OutboundMessage.state == "pending") & (OutboundMessage.next_attempt_at <= now),
                (OutboundMessage.state == "sending") & (OutboundMessage.claimed_at <= lease_over),
            )
        )
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    ).first()
    if message is None:
        return None
    recovering = message.state == "sending"
    since = message.claimed_at if recovering and message.claimed_at else now
    message.state = "sending"
    message.claimed_at = now
    if not recovering:
        message.attempts += 1
    session.flush()
    return Claimed(message.id, vault.decrypt(message.to_cipher), vault.decrypt(message.body_cipher), recovering, since)


def mark_sent(session: Session, *, message_id: int, sid: str | None, now: dt.datetime, state: str = "sent") -> None:
    """Twilio accepted the message (`sid`), or it went to the local sink (``state="local"``)."""
    message = session.get(OutboundMessage, message_id)
    message.state, message.twilio_sid, message.sent_at, message.error = state, sid, now, None
    log.info("sms %s", state, extra={"outbound_message_id": message_id})


def mark_unsent(
    session: Session, *, message_id: int, error: str, permanent: bool, sms: SmsSettings, now: dt.datetime
) -> None:
    """A send failed: try again later with growing delays, or give up and put it before staff."""
    message = session.get(OutboundMessage, message_id)
    message.error = error[:40]
    if permanent or message.attempts >= sms.max_attempts:
        message.state = "failed"
        flag_conversation(
            session,
            conversation_id=message.conversation_id or f"sms-outbox-{message.id}",
            channel="sms",
            reason="sms_failed",
            note=f"{message.kind} message {message.id} not sent: {message.error}",
        )
        log.error("sms failed for good", extra={"outbound_message_id": message_id, "error": message.error})
        return
    message.state = "pending"
    message.next_attempt_at = now + dt.timedelta(seconds=sms.retry_seconds * 2 ** (message.attempts - 1))
    log.warning("sms not sent, will retry", extra={"outbound_message_id": message_id, "error": message.error})


# Twilio's message statuses, and what they make of ours.
_CALLBACK_STATES = {"delivered": "delivered", "undelivered": "failed", "failed": "failed", "sent": "sent"}


def record_status(
    session: Session, *, message_id: int | None, sid: str, status: str, now: dt.datetime
) -> OutboundMessage | None:
    """Apply a signed status callback; it also settles a message whose worker died before recording the SID."""
    message = session.scalars(select(OutboundMessage).where(OutboundMessage.twilio_sid == sid)).first()
    if message is None and message_id is not None:
        message = session.get(OutboundMessage, message_id, with_for_update=True)
        if message is None or message.twilio_sid not in (None, sid):
            return None
        message.twilio_sid = sid
    state = _CALLBACK_STATES.get(status)
    if message is None or state is None or message.state == "delivered":
        return message
    if message.state in ("sending", "pending"):
        message.sent_at = message.sent_at or now
    message.state = state
    if state == "delivered":
        message.delivered_at = now
    return message


def describe_message(message: OutboundMessage, *, vault: Vault, tz: ZoneInfo, with_text: bool) -> dict[str, Any]:
    """One row of `outbox list --json`: the number masked; the text only for the local sink."""
    row: dict[str, Any] = {
        "id": message.id,
        "to": mask_phone(vault.decrypt(message.to_cipher)),
        "kind": message.kind,
        "language": message.language,
        "state": "pending" if message.state == "sending" else message.state,
        "reference": message.reference,
        "created": message.created_at.astimezone(tz).isoformat(),
        "attempts": message.attempts,
    }
    if with_text:
        row["text"] = vault.decrypt(message.body_cipher)
    return row


def list_messages(session: Session, *, limit: int = 50, state: str | None = None) -> list[OutboundMessage]:
    """Outbound messages, newest first."""
    query = select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(limit)
    if state is not None:
        query = query.where(OutboundMessage.state == state)
    return list(session.scalars(query))
