import dataclasses
import datetime as dt

import pytest

from bot.cards.loss_reports import cancel_loss_report, create_loss_report
from bot.cards.statuses import CardStatus
from bot.config import LossPolicy
from bot.errors import CardFormallyLost, LossReportNotAllowed, NoActiveLossReport, SelfServiceUnblockDisabled
from bot.identity.answers import name_from_answer
from bot.services import card_overview, check_loss_report_possible, check_unblock_possible
from tests.factories import ID_ZHANG, add_card, outbox_for
from tests.support import NOW


@pytest.mark.parametrize(
    ("answer", "name"),
    [
        ("张伟", "张伟"),
        ("我叫张伟。", "张伟"),
        ("名字是 张伟", "张伟"),
        ("姓名：张伟", "张伟"),
        ("my name is Maria Garcia", "Maria Garcia"),
        ("It's Li Na.", "Li Na"),
        ("  王芳 ! ", "王芳"),
    ],
)
def test_name_from_answer(answer, name):
    assert name_from_answer(answer) == name


def test_overview_lapses_an_expired_report(session, settings, vault):
    card = add_card(session, vault)
    create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=LossPolicy(validity_days=1), now=NOW
    )
    fresh = card_overview(session, settings=settings, id_number=ID_ZHANG, now=NOW)
    assert fresh.status is CardStatus.LOSS_REPORTED and fresh.active_reference
    later = card_overview(session, settings=settings, id_number=ID_ZHANG, now=NOW + dt.timedelta(days=2))
    assert later.status is CardStatus.ACTIVE and later.active_reference is None


@pytest.mark.parametrize("status", [CardStatus.SHIPPED, CardStatus.LOST, CardStatus.CANCELLED])
def test_loss_report_impossible(session, settings, vault, status):
    add_card(session, vault, status=status)
    with pytest.raises(LossReportNotAllowed):
        check_loss_report_possible(card_overview(session, settings=settings, id_number=ID_ZHANG, now=NOW))


def test_unblock_checks(session, settings, vault):
    add_card(session, vault)
    overview = card_overview(session, settings=settings, id_number=ID_ZHANG, now=NOW)
    with pytest.raises(NoActiveLossReport):
        check_unblock_possible(overview, settings)
    strict = dataclasses.replace(settings, loss_policy=LossPolicy(self_service_unblock=False))
    with pytest.raises(SelfServiceUnblockDisabled):
        check_unblock_possible(overview, strict)
    lost = dataclasses.replace(overview, status=CardStatus.LOST)
    with pytest.raises(CardFormallyLost):  # said as such, wherever loss reports are cancelled
        check_unblock_possible(lost, strict)


def test_an_issued_card_keeps_its_pickup_date_after_a_cancelled_loss_report(session, settings, vault):
    card = add_card(session, vault, status=CardStatus.ISSUED)
    picked_up = card.status_changed_at
    policy = LossPolicy()
    later = NOW + dt.timedelta(days=30)
    create_loss_report(session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=policy, now=later)
    cancel_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, policy=policy, now=later + dt.timedelta(hours=1)
    )
    overview = card_overview(session, settings=settings, id_number=ID_ZHANG, now=later + dt.timedelta(hours=2))
    assert overview.status is CardStatus.ISSUED
    assert overview.status_changed_at == picked_up
    assert overview.holder_masked == "张*"
