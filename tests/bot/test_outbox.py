"""The outbox and its worker, with the real Twilio client against a fake Messages API on loopback."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading

import pytest
from sqlalchemy import select, text

from bot.cards.loss_reports import create_loss_report, lapse_expired
from bot.config import LossPolicy, SmsSettings
from bot.models import Card, Flag, OutboundMessage
from bot.sms.outbox import claim, record_status, set_opt_out
from bot.sms.senders import LocalSink, TwilioSender
from bot.sms.worker import send_one
from tests.factories import add_card, outbox_for
from tests.fakes.twilio_api import start_fake_twilio
from tests.support import NOW

PHONE = "+8613912345678"
ACCOUNT = "AC" + "0" * 32
TOKEN = "fake-twilio-auth-token-0123456789"


@pytest.fixture
def fake_twilio():
    fake, server = start_fake_twilio(ACCOUNT, TOKEN)
    yield fake
    if fake.stall is not None:
        fake.stall.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def senders(sms):
    """Makes Twilio senders (as many as the test needs) and closes them afterwards."""
    made: list[TwilioSender] = []

    def make(settings: SmsSettings | None = None) -> TwilioSender:
        made.append(TwilioSender(settings or sms))
        return made[-1]

    yield make
    for sender in made:
        sender.close()


@pytest.fixture
def sms(fake_twilio) -> SmsSettings:
    return SmsSettings(
        account_sid=ACCOUNT,
        auth_token=TOKEN,
        from_number="+8610000000000",
        api_base_url=fake_twilio.url,
        status_callback_url="https://cards.example.org/twilio/sms-status",
        max_attempts=3,
        retry_seconds=10,
        lease_seconds=60,
    )


class Clock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def report_loss(session, vault, *, language: str = "zh") -> None:
    card = add_card(session, vault, phone=PHONE)
    create_loss_report(
        session,
        outbox=outbox_for(vault),
        card_id=card.id,
        channel="voice",
        policy=LossPolicy(),
        now=NOW,
        conversation_id="conv-1",
        language=language,
    )
    session.commit()


def messages(sessions) -> list[OutboundMessage]:
    with sessions() as s:
        return list(s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_a_loss_report_queues_one_encrypted_notice(session, sessions, vault, engine):
    report_loss(session, vault)
    (message,) = messages(sessions)
    assert (message.kind, message.language, message.state, message.conversation_id) == (
        "loss_reported",
        "zh",
        "pending",
        "conv-1",
    )
    body = vault.decrypt(message.body_cipher)
    assert message.reference in body and "如非本人操作，请立即致电 12333" in body
    assert vault.decrypt(message.to_cipher) == PHONE
    with engine.connect() as conn:  # nothing personal in clear at rest
        raw = " ".join(str(v) for row in conn.execute(text("SELECT * FROM outbound_messages")) for v in row)
    assert PHONE not in raw and "13912345678" not in raw and "如非本人" not in raw


def test_english_notice_never_names_the_id_number(session, sessions, vault):
    report_loss(session, vault, language="en")
    (message,) = messages(sessions)
    body = vault.decrypt(message.body_cipher)
    assert message.language == "en" and "If this was not you, call 12333" in body
    assert "11010519491231002X" not in body and "张伟" not in body


def test_worker_sends_with_the_twilio_client_and_records_the_sid(session, sessions, vault, sms, fake_twilio, senders):
    report_loss(session, vault)
    assert send_one(sessions, sender=senders(), vault=vault, sms=sms, clock=Clock(NOW))
    assert not send_one(sessions, sender=senders(), vault=vault, sms=sms, clock=Clock(NOW))
    (sent,) = fake_twilio.to(PHONE)
    (message,) = messages(sessions)
    assert (message.state, message.twilio_sid, message.attempts) == ("sent", sent.sid, 1)
    assert sent.sender == sms.from_number and message.reference in sent.body
    assert sent.status_callback == f"{sms.status_callback_url}?message={message.id}"


def test_messaging_service_replaces_the_from_number(session, sessions, vault, sms, fake_twilio, senders):
    report_loss(session, vault)
    service = dataclasses.replace(sms, from_number="", messaging_service_sid="MG" + "1" * 32)
    send_one(sessions, sender=senders(service), vault=vault, sms=service, clock=Clock(NOW))
    assert [m.sender for m in fake_twilio.to(PHONE)] == [service.messaging_service_sid]


def test_a_failed_send_is_retried_later_with_backoff(session, sessions, vault, sms, fake_twilio, senders):
    report_loss(session, vault)
    fake_twilio.fail_next(500, 503)
    clock = Clock(NOW)
    sender = senders()
    send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)
    (message,) = messages(sessions)
    assert (message.state, message.next_attempt_at) == ("pending", NOW + dt.timedelta(seconds=10))
    assert not send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)  # not due yet
    clock.now += dt.timedelta(seconds=10)
    send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)
    (message,) = messages(sessions)
    assert message.next_attempt_at == clock.now + dt.timedelta(seconds=20)  # doubled
    clock.now += dt.timedelta(seconds=20)
    send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)
    (message,) = messages(sessions)
    assert (message.state, message.attempts) == ("sent", 3)
    assert len(fake_twilio.to(PHONE)) == 1


def test_after_the_last_try_the_message_is_failed_and_put_before_staff(
    session, sessions, vault, sms, fake_twilio, senders
):
    report_loss(session, vault)
    fake_twilio.fail_next(500, 500, 500)
    clock = Clock(NOW)
    for _ in range(3):
        send_one(sessions, sender=senders(), vault=vault, sms=sms, clock=clock)
        clock.now += dt.timedelta(hours=1)
    (message,) = messages(sessions)
    assert message.state == "failed"
    with sessions() as s:
        flags = s.scalars(select(Flag).where(Flag.reason == "sms_failed")).all()
        assert [f.conversation_id for f in flags] == ["conv-1"]
        assert PHONE not in (flags[0].note or "")
        # the loss report itself stands
        assert s.execute(text("SELECT state FROM loss_reports")).scalar_one() == "active"


def test_a_refused_number_fails_at_once(session, sessions, vault, sms, fake_twilio, senders):
    report_loss(session, vault)
    fake_twilio.fail_next(400)
    send_one(sessions, sender=senders(), vault=vault, sms=sms, clock=Clock(NOW))
    assert messages(sessions)[0].state == "failed"


def test_a_crash_between_send_and_record_does_not_send_twice(session, sessions, vault, sms, fake_twilio, senders):
    """The worker sent, then died before recording: the next worker finds it at Twilio instead of resending."""
    report_loss(session, vault)
    sender = senders()
    with sessions.begin() as s:
        claimed = claim(s, vault=vault, sms=sms, now=NOW)
    sender.send(to=claimed.to, body=claimed.body, status_callback=None)  # ... and the worker dies here
    clock = Clock(NOW + dt.timedelta(seconds=30))
    assert not send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)  # still leased
    clock.now = NOW + dt.timedelta(seconds=61)
    assert send_one(sessions, sender=sender, vault=vault, sms=sms, clock=clock)
    (sent,) = fake_twilio.to(PHONE)
    (message,) = messages(sessions)
    assert (message.state, message.twilio_sid) == ("sent", sent.sid)


def test_a_claim_that_never_reached_twilio_is_sent_after_the_lease(session, sessions, vault, sms, fake_twilio, senders):
    report_loss(session, vault)
    with sessions.begin() as s:
        claim(s, vault=vault, sms=sms, now=NOW)  # the worker died before sending
    send_one(sessions, sender=senders(), vault=vault, sms=sms, clock=Clock(NOW + dt.timedelta(minutes=2)))
    assert len(fake_twilio.to(PHONE)) == 1 and messages(sessions)[0].state == "sent"


def test_status_callbacks_mark_delivery_and_settle_an_unrecorded_send(session, sessions, vault):
    report_loss(session, vault)
    (message,) = messages(sessions)
    with sessions.begin() as s:
        record_status(s, message_id=message.id, sid="SM" + "a" * 32, status="sent", now=NOW)
    with sessions.begin() as s:
        record_status(s, message_id=None, sid="SM" + "a" * 32, status="delivered", now=NOW)
        # a later, out-of-order "sent" does not undo delivery; another message's id cannot take this SID
        record_status(s, message_id=None, sid="SM" + "a" * 32, status="sent", now=NOW)
    (message,) = messages(sessions)
    assert (message.state, message.twilio_sid, message.delivered_at) == ("delivered", "SM" + "a" * 32, NOW)


def test_without_an_account_messages_go_to_the_local_sink(session, sessions, vault):
    report_loss(session, vault)
    send_one(sessions, sender=LocalSink(), vault=vault, sms=SmsSettings(), clock=Clock(NOW))
    assert messages(sessions)[0].state == "local"


def test_opt_out_stops_card_ready_notices_only(session, sessions, vault):
    outbox = outbox_for(vault)
    card = add_card(session, vault, phone=PHONE)
    set_opt_out(session, token=outbox.recipient_token(PHONE), opted_out=True, now=NOW)
    assert outbox.notify(session, kind="card_ready", card=card, key="card_ready:x", now=NOW, office="A") is None
    assert outbox.notify(session, kind="unblocked", card=card, key="unblocked:x", now=NOW, reference="1") is not None
    set_opt_out(session, token=outbox.recipient_token(PHONE), opted_out=False, now=NOW)
    assert outbox.notify(session, kind="card_ready", card=card, key="card_ready:y", now=NOW, office="A") is not None


def test_workers_in_parallel_send_each_message_once(session, sessions, vault, sms, fake_twilio, database_url, senders):
    card = add_card(session, vault, phone=PHONE)
    outbox = outbox_for(vault)
    for n in range(12):
        outbox.notify(session, kind="unblocked", card=card, key=f"unblocked:{n}", now=NOW, reference=f"{n:010d}")
    session.commit()
    workers = 1 if database_url.startswith("sqlite") else 4  # SQLite runs one worker

    def work() -> None:
        sender = senders()
        while send_one(sessions, sender=sender, vault=vault, sms=sms, clock=Clock(NOW)):
            pass

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    bodies = [m.body for m in fake_twilio.to(PHONE)]
    assert len(bodies) == 12 and len(set(bodies)) == 12
    assert {m.state for m in messages(sessions)} == {"sent"}


def test_a_lapse_is_announced_once_in_the_holders_language(session, sessions, vault):
    report_loss(session, vault, language="en")
    card = session.scalars(select(Card)).one()
    later = NOW + dt.timedelta(days=8)
    assert lapse_expired(session, card=card, outbox=outbox_for(vault), now=later)
    assert not lapse_expired(session, card=card, outbox=outbox_for(vault), now=later)
    session.commit()
    lapsed = [m for m in messages(sessions) if m.kind == "lapsed"]
    assert [m.language for m in lapsed] == ["en"]
    assert "has lapsed" in vault.decrypt(lapsed[0].body_cipher)


def test_no_number_or_text_reaches_the_logs(session, sessions, vault, sms, fake_twilio, senders, caplog):
    report_loss(session, vault)
    caplog.set_level(logging.DEBUG)
    sender = senders()
    with sessions.begin() as s:
        claimed = claim(s, vault=vault, sms=sms, now=NOW)
    sender.send(to=claimed.to, body=claimed.body, status_callback=None)
    send_one(sessions, sender=sender, vault=vault, sms=sms, clock=Clock(NOW + dt.timedelta(minutes=5)))  # recovers
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert "outbound_message_id" in logged
    assert "13912345678" not in logged and claimed.body not in logged and "12333" not in logged


@pytest.mark.parametrize("kind", ["loss_reported", "unblocked", "lapsed", "card_ready", "code"])
def test_one_event_queues_one_message_however_often_it_is_announced(session, sessions, vault, kind):
    """The key names the event: announcing it again (a retried transaction, a second worker) queues nothing."""
    outbox = outbox_for(vault)
    card = add_card(session, vault, phone=PHONE)
    values = {"reference": "1234567897", "office": "朝阳区", "code": "123456", "minutes": 5, "expires_date": NOW}
    first = outbox.notify(session, kind=kind, card=card, key=f"{kind}:7", now=NOW, **values)
    again = outbox.notify(session, kind=kind, card=card, key=f"{kind}:7", now=NOW + dt.timedelta(minutes=1), **values)
    session.commit()
    assert first is not None and again is None
    assert [m.kind for m in messages(sessions)] == [kind]
