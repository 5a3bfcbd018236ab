"""The SMS number's side of outbound messages: 退订/STOP and 订阅/START, and signed delivery reports."""

from __future__ import annotations

import secrets
import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from bot.config import SmsSettings
from bot.models import Card, OutboundMessage
from bot.sms.senders import TwilioSender
from bot.sms.worker import send_one
from tests.factories import add_card, outbox_for
from tests.fakes.twilio_api import start_fake_twilio
from tests.support import NOW, TWILIO_TOKEN, signed

PHONE = "+8613912345678"
STATUS_URL = "http://localhost/twilio/sms-status"


def text_in(client, body: str) -> str:
    form = {"From": "139 1234 5678", "Body": body, "MessageSid": "SM" + secrets.token_hex(16)}  # each a new message
    response = client.post("/twilio/sms", data=form, headers=signed(form))
    assert response.status_code == 200
    return response.get_data(as_text=True)


def notify_all(session, vault, n: int) -> list[str]:
    card = session.scalars(select(Card)).first() or add_card(session, vault, phone=PHONE)
    outbox = outbox_for(vault)
    kinds = []
    for kind in ("card_ready", "unblocked", "code"):
        values = {"office": "朝阳区", "code": "123456", "minutes": 5}
        if outbox.notify(session, kind=kind, card=card, key=f"{kind}:{n}", now=NOW, reference="1234567897", **values):
            kinds.append(kind)
    session.commit()
    return kinds


@pytest.mark.parametrize(("stop", "start"), [("退订", "订阅"), ("td", "START"), (" STOP ", "start")])
def test_stop_ends_card_ready_notices_only_and_start_resumes_them(client, session, vault, stop, start):
    assert notify_all(session, vault, 0) == ["card_ready", "unblocked", "code"]
    assert "退订" in text_in(client, stop) or "no longer" in text_in(client, stop)
    assert notify_all(session, vault, 1) == ["unblocked", "code"]
    text_in(client, start)
    assert notify_all(session, vault, 2) == ["card_ready", "unblocked", "code"]


def test_a_keyword_inside_a_sentence_is_an_ordinary_message(client, session, vault):
    notify_all(session, vault, 0)
    text_in(client, "请不要 STOP 我的卡")  # goes to the assistant (down here), not to the opt-out list
    assert notify_all(session, vault, 1) == ["card_ready", "unblocked", "code"]


def _message(session, vault) -> OutboundMessage:
    card = add_card(session, vault, phone=PHONE)
    message = outbox_for(vault).notify(session, kind="unblocked", card=card, key="unblocked:1", now=NOW, reference="1")
    message.state, message.twilio_sid = "sent", "SM" + "b" * 32
    session.commit()
    return message


def test_a_signed_status_callback_marks_delivery(client, session, vault):
    message = _message(session, vault)
    form = {"MessageSid": message.twilio_sid, "MessageStatus": "delivered"}
    url = f"{STATUS_URL}?message={message.id}"
    assert (
        client.post(f"/twilio/sms-status?message={message.id}", data=form, headers=signed(form, url)).status_code == 204
    )
    session.expire_all()
    assert session.get(OutboundMessage, message.id).state == "delivered"


def test_unsigned_or_malformed_status_callbacks_change_nothing(client, session, vault):
    message = _message(session, vault)
    form = {"MessageSid": message.twilio_sid, "MessageStatus": "failed"}
    assert client.post("/twilio/sms-status", data=form).status_code == 403
    bad = {"MessageSid": "nonsense", "MessageStatus": "failed"}
    assert client.post("/twilio/sms-status", data=bad, headers=signed(bad, STATUS_URL)).status_code == 400
    session.expire_all()
    assert session.get(OutboundMessage, message.id).state == "sent"


def state_of(sessions, message_id: int) -> str:
    """Read in a short transaction of its own (on SQLite an open one would hold the app's writes)."""
    with sessions() as s:
        return s.get(OutboundMessage, message_id).state


def test_the_fake_twilio_reports_delivery_to_the_running_app(app, session, sessions, vault, settings):
    """The whole loop on loopback: the worker sends through the Twilio client, Twilio posts a signed status."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    app.config["WEB"].public_base_url = base
    fake, api = start_fake_twilio("AC" + "2" * 32, TWILIO_TOKEN)
    sms = SmsSettings(
        account_sid=fake.account_sid,
        auth_token=fake.auth_token,
        from_number="+8610000000000",
        api_base_url=fake.url,
        status_callback_url=f"{base}/twilio/sms-status",
    )
    sender = TwilioSender(sms)
    try:
        message = _message(session, vault)
        session.execute(
            OutboundMessage.__table__.update().values(state="pending", twilio_sid=None)
        )  # queued, not yet sent
        session.commit()
        assert send_one(sessions, sender=sender, vault=vault, sms=sms)
        (sent,) = fake.to(PHONE)
        assert fake.post_status(sent, "delivered", auth_token="forged-token-0123456789") == 403
        assert state_of(sessions, message.id) == "sent"
        assert fake.post_status(sent, "delivered") == 204
        assert state_of(sessions, message.id) == "delivered"
        assert sent.status_callback == f"{sms.status_callback_url}?message={message.id}"
    finally:
        sender.close()
        api.shutdown()
        api.server_close()
        server.shutdown()
