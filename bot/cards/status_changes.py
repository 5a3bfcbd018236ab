"""Status changes made by staff or the bureau's systems, checked against the transition rules."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.cards.holders import lock_card, record_status
from bot.cards.loss_reports import close_active_report
from bot.cards.statuses import CardStatus, check_transition
from bot.models import Card


def set_card_status(session: Session, *, card_id: int, status: CardStatus, now: dt.datetime, source: str) -> Card:
    """Change a card's status if the rules allow it; an open temporary loss report is closed.

    Going to ``lost`` formalises the temporary report (the written report at a service hall);
    any other status cancels it.
    """
    card = lock_card(session, card_id)
    current = CardStatus(card.status)
    check_transition(current, status)
    if current is CardStatus.LOSS_REPORTED:
        close_active_report(session, card=card, formalised=status is CardStatus.LOST, now=now)
    record_status(card, status, at=now, source=source)
    session.flush()
    return card
