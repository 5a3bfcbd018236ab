"""One-time codes for unblocking: sent by SMS, hashed, bound to card and conversation, three tries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
from sqlalchemy import select, text

from bot.cards.loss_reports import create_loss_report
from bot.config import LossPolicy
from bot.errors import (
    CodeAttemptsExhausted,
    CodeExpired,
    NoRegisteredMobile,
    SelfServiceUnblockDisabled,
    TooManyCodes,
    UnblockCodeRequired,
    WrongCode,
)
from bot.models import Flag, OneTimeCode, OutboundMessage
from bot.services import check_unblock_code, send_unblock_code, unblock_card
from tests.factories import ID_ZHANG, add_card, outbox_for
from tests.support import NOW

CODE = re.compile(r"验证码 (\d{6})")


@pytest.fixture
def reported(session, settings, vault):
    card = add_card(session, vault)
    create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=settings.loss_policy, now=NOW
    )
    return card


def send(session, settings, conversation="conv-a", now=NOW) -> str:
    send_unblock_code(
        session, settings=settings, id_number=ID_ZHANG, conversation_id=conversation, language="zh", now=now
    )
    message = session.scalars(
        select(OutboundMessage).where(OutboundMessage.kind == "code").order_by(OutboundMessage.id.desc())
    ).first()
    from bot.identity.privacy import Vault

    return CODE.search(Vault(settings).decrypt(message.body_cipher)).group(1)


def check(session, settings, code, conversation="conv-a", now=NOW) -> None:
    check_unblock_code(
        session,
        settings=settings,
        id_number=ID_ZHANG,
        conversation_id=conversation,
        channel="chat",
        code=code,
        now=now,
    )


def unblock(session, settings, conversation="conv-a", now=NOW):
    """One transaction, as the actions run it: a refusal undoes everything it did."""
    with session.begin_nested():
        return unblock_card(
            session, settings=settings, id_number=ID_ZHANG, conversation_id=conversation, channel="chat", now=now
        )


def test_unblock_needs_the_code_sent_by_sms(session, settings, reported):
    with pytest.raises(UnblockCodeRequired):
        unblock(session, settings)
    code = send(session, settings)
    check(session, settings, code)
    report = unblock(session, settings)
    assert report.state == "cancelled"
    kinds = session.scalars(select(OutboundMessage.kind).order_by(OutboundMessage.id)).all()
    assert kinds == ["loss_reported", "code", "unblocked"]
    with pytest.raises(CodeExpired):  # single use
        check(session, settings, code)


def test_the_code_is_stored_only_as_a_hash(session, settings, reported, engine):
    code = send(session, settings)
    session.commit()
    with engine.connect() as conn:
        raw = " ".join(str(v) for row in conn.execute(text("SELECT * FROM one_time_codes")) for v in row)
    assert code not in raw


def test_a_code_from_another_conversation_is_useless(session, settings, reported):
    code = send(session, settings, conversation="conv-a")
    with pytest.raises(CodeExpired):
        check(session, settings, code, conversation="conv-b")
    check(session, settings, code, conversation="conv-a")
    with pytest.raises(UnblockCodeRequired):
        unblock(session, settings, conversation="conv-b")


def test_three_wrong_codes_end_the_attempt_and_flag_it(session, settings, reported):
    code = send(session, settings)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (2, 1):
        with pytest.raises(WrongCode) as failure:
            check(session, settings, wrong)
        assert failure.value.attempts_left == left
    with pytest.raises(CodeAttemptsExhausted):
        check(session, settings, wrong)
    with pytest.raises(CodeExpired):  # even the right code is now refused
        check(session, settings, code)
    reasons = session.scalars(select(Flag.reason)).all()
    assert "identity_failed" in reasons


def test_a_code_expires_after_five_minutes(session, settings, reported):
    code = send(session, settings)
    with pytest.raises(CodeExpired):
        check(session, settings, code, now=NOW + dt.timedelta(minutes=5))


def test_a_new_code_replaces_the_old_one(session, settings, reported):
    first = send(session, settings)
    second = send(session, settings, now=NOW + dt.timedelta(minutes=1))
    if first != second:
        with pytest.raises(WrongCode):
            check(session, settings, first)
    check(session, settings, second)


def test_at_most_three_codes_per_card_per_hour(session, settings, reported):
    for minute in range(3):
        send(session, settings, now=NOW + dt.timedelta(minutes=minute))
    with pytest.raises(TooManyCodes):
        send(session, settings, now=NOW + dt.timedelta(minutes=30))
    send(session, settings, now=NOW + dt.timedelta(minutes=61))


def test_a_holder_without_a_mobile_is_sent_no_code(session, settings, vault):
    card = add_card(session, vault, phone="+861062345678")  # a Beijing landline
    create_loss_report(
        session, outbox=outbox_for(vault), card_id=card.id, channel="chat", policy=settings.loss_policy, now=NOW
    )
    with pytest.raises(NoRegisteredMobile):
        send(session, settings)
    assert session.scalars(select(OneTimeCode)).all() == []


def test_no_code_when_self_service_unblock_is_off(session, settings, reported):
    strict = dataclasses.replace(settings, loss_policy=LossPolicy(self_service_unblock=False))
    with pytest.raises(SelfServiceUnblockDisabled):
        send(session, strict)
