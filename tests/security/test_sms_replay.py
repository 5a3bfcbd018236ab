"""Threat: a captured, correctly signed SMS webhook request is sent again to act twice."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from bot.models import SeenSms
from tests.support import make_web_settings, signed
from webhooks import create_app

FORM = {"From": "+8613900001001", "Body": "我的社保卡丢了", "MessageSid": "SM0123456789abcdef"}


@pytest.fixture
def sms_app(settings, sessions, fake_rasa):
    url, received = fake_rasa
    return create_app({"WEB": make_web_settings(settings, rasa_url=url), "TESTING": True}), received


def test_a_replayed_request_gets_an_empty_answer_and_no_second_turn(sms_app, session):
    app, received = sms_app
    client = app.test_client()
    first = client.post("/twilio/sms", data=FORM, headers=signed(FORM))
    assert first.status_code == 200 and "<Message>ok</Message>" in first.get_data(as_text=True)
    replay = client.post("/twilio/sms", data=FORM, headers=signed(FORM))
    assert replay.status_code == 200 and replay.mimetype == "application/xml"
    assert "<Message>" not in replay.get_data(as_text=True)
    assert len(received) == 1
    assert session.scalars(select(SeenSms.message_sid)).all() == [FORM["MessageSid"]]


def test_another_message_from_the_same_sender_is_a_new_turn(sms_app):
    app, received = sms_app
    client = app.test_client()
    second = {**FORM, "MessageSid": "SM99", "Body": "进度"}
    for form in (FORM, second):
        assert "<Message>ok</Message>" in client.post("/twilio/sms", data=form, headers=signed(form)).get_data(True)
    assert [body["message"] for body in received] == ["我的社保卡丢了", "进度"]


def test_parallel_replays_make_one_turn(sms_app):
    app, received = sms_app

    def post(_n: int) -> str:
        return app.test_client().post("/twilio/sms", data=FORM, headers=signed(FORM)).get_data(as_text=True)

    with ThreadPoolExecutor(max_workers=6) as pool:
        answers = list(pool.map(post, range(6)))
    assert sum("<Message>ok</Message>" in answer for answer in answers) == 1
    assert len(received) == 1


def test_a_request_without_a_message_sid_is_refused(sms_app):
    app, received = sms_app
    form = {key: value for key, value in FORM.items() if key != "MessageSid"}
    assert app.test_client().post("/twilio/sms", data=form, headers=signed(form)).status_code == 400
    assert received == []
