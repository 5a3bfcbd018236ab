"""Fictional card records for tests."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from bot.card_import import CardRow, apply_rows
from bot.cards import get_cardholder
from bot.models import Card
from bot.privacy import Vault
from bot.statuses import CardStatus

ID_ZHANG = "11010519491231002X"
ID_WANG = "320102198503121015"
ID_UNKNOWN = "320102199007072028"


def add_card(
    session: Session,
    vault: Vault,
    *,
    id_number: str = ID_ZHANG,
    name: str = "张伟",
    phone: str = "+8613912345678",
    card_number: str = "A12345678",
    status: CardStatus = CardStatus.ACTIVE,
    updated_at: dt.datetime = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.timezone.utc),
) -> Card:
    row = CardRow(
        line=2,
        id_number=id_number,
        name=name,
        phone=phone,
        card_number=card_number,
        status=status,
        region="110105",
        office="朝阳区社保服务大厅",
        updated_at=updated_at,
    )
    apply_rows(session, vault=vault, rows=[row], now=updated_at)
    return get_cardholder(session, vault=vault, id_number=id_number).current_card
