"""Finding cardholders and changing card status, with the status history kept alongside."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from bot.cards.statuses import CardStatus
from bot.errors import CardNotFound
from bot.identity.privacy import Vault
from bot.models import Card, Cardholder, CardStatusChange, LossReport

# A cardholder is read for their current card: its status history and loss reports come in the
# same query, not in three more as each is first touched (a third of an identity check's time).
_WITH_CARDS = (
    joinedload(Cardholder.cards).joinedload(Card.history),
    joinedload(Cardholder.cards).joinedload(Card.loss_reports),
)


def find_cardholder(session: Session, *, vault: Vault, id_number: str) -> Cardholder | None:
    """The cardholder with this canonical ID number, or None."""
    found = select(Cardholder).where(Cardholder.id_hash == vault.id_hash(id_number)).options(*_WITH_CARDS)
    return session.scalars(found).unique().first()


def get_cardholder(session: Session, *, vault: Vault, id_number: str) -> Cardholder:
    """Like `find_cardholder` but raises CardNotFound."""
    holder = find_cardholder(session, vault=vault, id_number=id_number)
    if holder is None or holder.current_card is None:
        raise CardNotFound("no card is registered for that ID number")
    return holder


def lock_card(session: Session, card_id: int) -> Card:
    """Reload a card with a row lock (PostgreSQL) so concurrent changes to it queue up."""
    card = session.scalars(
        select(Card).where(Card.id == card_id).with_for_update().execution_options(populate_existing=True)
    ).one()
    return card


def record_status(card: Card, new: CardStatus, *, at: dt.datetime, source: str) -> None:
    """Move a card to `new` (no rule check) and append the change to its history."""
    card.history.append(CardStatusChange(from_status=card.status, to_status=new.value, changed_at=at, source=source))
    card.status = new.value
    card.status_changed_at = at


def status_since(card: Card) -> dt.datetime:
    """When the card entered its current status. Cancelling a temporary loss report (解挂) gives the
    card back the status it had, so an issued card keeps the date it was collected, not the unblock's."""
    for change in sorted(card.history, key=lambda c: (c.changed_at, c.id or 0), reverse=True):
        if change.to_status == card.status and change.from_status != CardStatus.LOSS_REPORTED.value:
            return change.changed_at
    return card.status_changed_at


def _iso(moment: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat() if moment else None


def describe_loss_report(report: LossReport, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "reference": report.reference,
        "channel": report.channel,
        "created": _iso(report.created_at, tz),
        "expires": _iso(report.expires_at, tz),
        "state": report.state,
        "closed": _iso(report.closed_at, tz),
    }


def describe_cardholder(holder: Cardholder, *, vault: Vault, tz: ZoneInfo) -> dict[str, Any]:
    """The full record as `cards show --json` prints it (import fields first, times in city time)."""
    card = holder.current_card
    if card is None:
        raise CardNotFound("no card is registered for that ID number")
    status = CardStatus(card.status)
    return {
        "id_number": vault.decrypt(holder.id_cipher),
        "name": holder.name,
        "phone": holder.phone,
        "card_number": card.card_number,
        "status": status.value,
        "region": holder.region,
        "office": card.office,
        "updated_at": _iso(card.status_changed_at, tz),
        "status_label": {"zh": status.label("zh"), "en": status.label("en")},
        "history": [
            {"from": c.from_status, "to": c.to_status, "at": _iso(c.changed_at, tz), "source": c.source}
            for c in card.history
        ],
        "loss_reports": [describe_loss_report(r, tz) for r in card.loss_reports],
        "previous_cards": [{"card_number": c.card_number, "status": c.status} for c in holder.cards if c is not card],
    }
