import datetime as dt

import pytest
from sqlalchemy import func, select

from bot.cards.loss_reports import (
    cancel_loss_report,
    create_loss_report,
    is_reference,
    lapse_all_expired,
    lapse_expired,
    luhn_check_digit,
)
from bot.cards.statuses import CardStatus
from bot.config import LossPolicy
from bot.errors import LossReportNotAllowed, NoActiveLossReport, SelfServiceUnblockDisabled
from bot.models import LossReport
from tests.factories import add_card, outbox_for
from tests.support import NOW

POLICY = LossPolicy()


def test_luhn_reference_check():
    assert luhn_check_digit("7992739871") == "3"  # the textbook Luhn example
    assert luhn_check_digit("123456789") == "7"
    assert is_reference("1234567897")
    assert not is_reference("1234567898")  # last digit mistyped
    assert not is_reference("2134567897")  # two digits swapped
    assert not is_reference("123456789")
    assert not is_reference("12345678９7")


def test_create_takes_effect_with_reference_and_expiry(session, vault):
    card = add_card(session, vault)
    report, created = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=POLICY, now=NOW, conversation_id="c1"
    )
    session.commit()
    assert created
    assert is_reference(report.reference) and report.reference[0] != "0"
    assert report.expires_at == NOW + dt.timedelta(days=7)
    assert report.previous_status == "active"
    assert card.status == "loss_reported"
    assert card.history[-1].to_status == "loss_reported"


def test_second_report_returns_the_same_reference(session, vault):
    card = add_card(session, vault)
    first, _ = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=POLICY, now=NOW
    )
    second, created = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="voice", policy=POLICY, now=NOW
    )
    session.commit()
    assert not created and second.reference == first.reference
    assert session.scalar(select(func.count(LossReport.id))) == 1


@pytest.mark.parametrize(
    "status", [CardStatus.READY_FOR_PICKUP, CardStatus.LOST, CardStatus.CANCELLED, CardStatus.SUBMITTED]
)
def test_cards_not_held_cannot_be_reported(session, vault, status):
    card = add_card(session, vault, status=status)
    with pytest.raises(LossReportNotAllowed):
        create_loss_report(session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=POLICY, now=NOW)
    assert card.status == status.value


def test_cancel_restores_previous_status(session, vault):
    card = add_card(session, vault, status=CardStatus.ISSUED)
    report, _ = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="voice", policy=POLICY, now=NOW
    )
    cancelled = cancel_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, policy=POLICY, now=NOW + dt.timedelta(hours=2)
    )
    session.commit()
    assert cancelled is report and report.state == "cancelled"
    assert card.status == "issued"
    with pytest.raises(NoActiveLossReport):
        cancel_loss_report(session, outbox=outbox_for(vault), card_id=card.id, policy=POLICY, now=NOW)


def test_cancel_by_self_service_can_be_switched_off(session, vault):
    card = add_card(session, vault)
    create_loss_report(session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=POLICY, now=NOW)
    strict = LossPolicy(self_service_unblock=False)
    with pytest.raises(SelfServiceUnblockDisabled):
        cancel_loss_report(session, outbox=outbox_for(vault), card_id=card.id, policy=strict, now=NOW)
    cancel_loss_report(session, outbox=outbox_for(vault), card_id=card.id, policy=strict, now=NOW, self_service=False)
    assert card.status == "active"


def test_lapse_after_expiry_and_new_report_possible(session, vault):
    card = add_card(session, vault)
    report, _ = create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=LossPolicy(validity_days=3), now=NOW
    )
    assert not lapse_expired(session, outbox=outbox_for(vault), card=card, now=NOW + dt.timedelta(days=2, hours=23))
    assert lapse_expired(session, outbox=outbox_for(vault), card=card, now=NOW + dt.timedelta(days=3))
    assert report.state == "lapsed" and card.status == "active"
    fresh, created = create_loss_report(
        session,
        outbox=outbox_for(vault),
        card_id=card.id,
        channel="chat",
        policy=POLICY,
        now=NOW + dt.timedelta(days=4),
    )
    session.commit()
    assert created and fresh.reference != report.reference


def test_cancel_after_expiry_finds_no_active_report(session, vault):
    card = add_card(session, vault)
    create_loss_report(session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=POLICY, now=NOW)
    with pytest.raises(NoActiveLossReport):
        cancel_loss_report(
            session, outbox=outbox_for(vault), card_id=card.id, policy=POLICY, now=NOW + dt.timedelta(days=8)
        )
    assert card.status == "active"


def test_lapse_all_expired(session, vault):
    old = add_card(session, vault)
    new = add_card(session, vault, id_number="320102198503121015", card_number="B00000001", phone="+8613900001001")
    create_loss_report(
        session,
        outbox=outbox_for(vault),
        card_id=old.id,
        channel="chat",
        policy=POLICY,
        now=NOW - dt.timedelta(days=10),
    )
    create_loss_report(session, outbox=outbox_for(vault), card_id=new.id, channel="chat", policy=POLICY, now=NOW)
    assert lapse_all_expired(session, outbox=outbox_for(vault), now=NOW) == 1
    session.commit()
    assert old.status == "active" and new.status == "loss_reported"
