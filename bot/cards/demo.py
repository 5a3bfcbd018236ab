"""Fictional demo cardholders, one per card status, so a person can try the assistant."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.cards.card_import import CardRow, apply_rows
from bot.cards.holders import get_cardholder
from bot.cards.loss_reports import create_loss_report
from bot.cards.statuses import CardStatus
from bot.config import Settings, load_settings
from bot.db import make_engine, make_session_factory
from bot.errors import BotError
from bot.identity.privacy import Vault
from bot.models import Cardholder
from bot.platform.migrate import upgrade
from bot.sms.outbox import Outbox


@dataclass(frozen=True)
class DemoCardholder:
    id_number: str
    name: str
    phone: str
    card_number: str
    status: CardStatus
    office: str
    days_ago: int


_XUANWU = "玄武区社会保障卡服务中心"
_GULOU = "鼓楼区政务服务中心社保窗口"
_QINHUAI = "秦淮区人社服务大厅"
_S = CardStatus

# Every ID number is fictional and has a valid check character; phones are fictional too.
DEMO_CARDHOLDERS: tuple[DemoCardholder, ...] = (
    DemoCardholder("320102198503121015", "张伟", "+8613900001001", "A00000001", _S.SUBMITTED, _XUANWU, 1),
    DemoCardholder("320102199007072028", "王芳", "+8613900001002", "A00000002", _S.UNDER_REVIEW, _XUANWU, 3),
    DemoCardholder("320104198811203031", "李娜", "+8613900001003", "A00000003", _S.IN_PRODUCTION, _QINHUAI, 6),
    DemoCardholder("320113199502154046", "刘洋", "+8613900001004", "A00000004", _S.SHIPPED, _GULOU, 9),
    DemoCardholder("320102198808085051", "陈静", "+8613900001005", "A00000005", _S.READY_FOR_PICKUP, _XUANWU, 2),
    DemoCardholder("320104199201306062", "杨帆", "+8613900001006", "A00000006", _S.ISSUED, _QINHUAI, 12),
    DemoCardholder("320102198605257079", "赵敏", "+8613900001007", "A00000007", _S.ACTIVE, _XUANWU, 200),
    DemoCardholder("320105198309178084", "黄磊", "+8613900001008", "A00000008", _S.ACTIVE, _GULOU, 300),
    DemoCardholder("320102199001019090", "周杰", "+8613900001009", "A00000009", _S.LOST, _XUANWU, 20),
    DemoCardholder("320111199909091101", "吴婷", "+8613900001010", "A00000010", _S.CANCELLED, _GULOU, 40),
    DemoCardholder("320105198706262116", "孙强", "+8613900001011", "A00000011", _S.REJECTED, _QINHUAI, 4),
    DemoCardholder("932250198005200126", "Maria Garcia", "+8613900001012", "F00000012", _S.ACTIVE, _GULOU, 90),
)
# This demo holder has an active temporary loss report, so 解挂 can be tried.
LOSS_REPORTED_DEMO = DEMO_CARDHOLDERS[7]
DEMO_REGION = "320100"


def database_is_empty(session: Session) -> bool:
    return session.scalar(select(func.count(Cardholder.id))) == 0


class DatabaseNotEmpty(BotError):
    """Demo data goes only into an empty database, never beside real records."""


def seed_demo(session: Session, *, settings: Settings, now: dt.datetime) -> None:
    """Load the demo cardholders and the demo loss report into an empty database."""
    if not database_is_empty(session):
        raise DatabaseNotEmpty("the database already has cardholders; demo data goes only into an empty one")
    vault = Vault(settings)
    rows = [
        CardRow(
            line=i,
            id_number=d.id_number,
            name=d.name,
            phone=d.phone,
            card_number=d.card_number,
            status=d.status,
            region=DEMO_REGION,
            office=d.office,
            updated_at=now - dt.timedelta(days=d.days_ago),
        )
        for i, d in enumerate(DEMO_CARDHOLDERS, start=1)
    ]
    outbox = Outbox.for_settings(settings)
    apply_rows(session, vault=vault, outbox=outbox, rows=rows, now=now)
    holder = get_cardholder(session, vault=vault, id_number=LOSS_REPORTED_DEMO.id_number)
    create_loss_report(
        session,
        card_id=holder.current_card.id,
        channel="counter",
        policy=settings.loss_policy,
        outbox=outbox,
        now=now,
        conversation_id="demo-seed",
    )


def seed_demo_database(env: Mapping[str, str]) -> None:
    """Migrate the card database at the environment's DATABASE_URL and load the demo cardholders into it."""
    settings = load_settings(dict(env), env_file=None)
    upgrade(settings.database_url, settings=settings)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine, vault=Vault(settings)).begin() as session:
            seed_demo(session, settings=settings, now=dt.datetime.now(dt.timezone.utc))
    finally:
        engine.dispose()
