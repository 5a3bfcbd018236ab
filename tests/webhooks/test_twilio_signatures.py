"""Every Twilio webhook refuses a request Twilio did not sign, and a refused request changes nothing.

The routes are read from the app itself, so a webhook added later is checked too. Each gets a
form that would make it act if it were let through (take a turn, flag the call, mark a message
delivered); a refused one must leave every table as it was and never reach Rasa.
"""

from __future__ import annotations

import dataclasses

import pytest
from twilio.request_validator import RequestValidator

from tests.factories import add_card, outbox_for
from tests.support import NOW, TWILIO_TOKEN, database_rows, make_web_settings, recording_rasa
from webhooks import create_app

CALL = {"CallSid": "CA" + "0" * 32, "From": "+8613912345678", "To": "+861012345678"}
SENT_SID = "SM" + "c" * 32
# What each webhook would act on; a route missing here gets a call with speech and a text message.
FORMS = {
    "/twilio/sms": {"From": "+8613912345678", "Body": "我的社保卡丢了", "MessageSid": "SM" + "1" * 32},
    "/twilio/sms-status": {"MessageSid": SENT_SID, "MessageStatus": "delivered"},
    "/twilio/voice": CALL,
    "/twilio/voice/turn": {**CALL, "SpeechResult": "我要挂失"},
    "/twilio/voice/after-dial": {**CALL, "DialCallStatus": "no-answer"},
    "/twilio/voice/voicemail": {**CALL, "RecordingSid": "RE" + "2" * 32},
    "/twilio/voice/recording": {
        **CALL,
        "RecordingSid": "RE" + "4" * 32,
        "RecordingStatus": "completed",
        "RecordingDuration": "12",
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE" + "4" * 32,
    },  # fmt: skip
    "/twilio/status": {**CALL, "CallStatus": "completed"},
}
QUERIES = {
    "/twilio/voice/turn": "?lang=zh&silent=0&step=1",
    "/twilio/voice/voicemail": "?lang=zh&reason=human_requested&cause=no_agent",
    "/twilio/voice/recording": "?lang=zh&reason=human_requested&cause=no_agent",
}
OTHER = {**CALL, "SpeechResult": "查进度", "Body": "hi", "MessageSid": "SM" + "3" * 32}


@pytest.fixture
def rasa():
    with recording_rasa("好的") as (url, received):
        yield url, received


@pytest.fixture
def app(settings, sessions, session, vault, rasa):
    """The web app with Rasa recording what reaches it, and a sent message a delivery report could mark."""
    card = add_card(session, vault)
    message = outbox_for(vault).notify(session, kind="unblocked", card=card, key="unblocked:1", now=NOW, reference="1")
    message.state, message.twilio_sid = "sent", SENT_SID
    session.commit()
    return create_app({"WEB": make_web_settings(settings, rasa_url=rasa[0]), "TESTING": True})


def twilio_routes(app) -> list[str]:
    routes = sorted(str(rule) for rule in app.url_map.iter_rules() if str(rule).startswith("/twilio"))
    assert set(FORMS) <= set(routes)  # the list is read from the app, and it has every known webhook
    return routes


def signature(token: str, url: str, form: dict) -> str:
    return RequestValidator(token).compute_signature(url, form)


def attacks(path: str) -> dict[str, tuple[str, dict, dict]]:
    """Name -> (path with query, form sent, headers): requests Twilio did not sign as sent."""
    target = path + QUERIES.get(path, "")
    form = FORMS.get(path, OTHER)
    url = "http://localhost" + target
    tampered = {**form, next(iter(form)): "CA" + "9" * 32}
    return {
        "unsigned": (target, form, {}),
        "empty signature": (target, form, {"X-Twilio-Signature": ""}),
        "another token": (target, form, {"X-Twilio-Signature": signature("another-auth-token", url, form)}),
        "no token at all": (target, form, {"X-Twilio-Signature": signature("", url, form)}),
        "tampered form": (target, tampered, {"X-Twilio-Signature": signature(TWILIO_TOKEN, url, form)}),
        "added field": (target, {**form, "Digits": "1"}, {"X-Twilio-Signature": signature(TWILIO_TOKEN, url, form)}),
        "another URL": (target, form, {"X-Twilio-Signature": signature(TWILIO_TOKEN, url + "&x=1", form)}),
    }


def test_every_twilio_webhook_refuses_unsigned_and_forged_requests_and_changes_nothing(app, engine, rasa):
    client = app.test_client()
    before = database_rows(engine)
    refused = []
    for path in twilio_routes(app):
        for name, (target, form, headers) in attacks(path).items():
            status = client.post(target, data=form, headers=headers).status_code
            refused.append((path, name, status))
    assert {(path, name, status) for path, name, status in refused if status != 403} == set()
    assert database_rows(engine) == before
    assert rasa[1] == []


def test_the_same_requests_signed_with_the_token_are_answered(app, engine):
    """The control for the test above: what was refused there was refused for its signature alone."""
    client = app.test_client()
    before = database_rows(engine)
    for path in twilio_routes(app):
        target = path + QUERIES.get(path, "")
        form = FORMS.get(path, OTHER)
        headers = {"X-Twilio-Signature": signature(TWILIO_TOKEN, "http://localhost" + target, form)}
        assert client.post(target, data=form, headers=headers).status_code in (200, 204), path
    assert database_rows(engine) != before  # some of them act: a turn, a flag, a delivery


@pytest.mark.parametrize("token", ["", None])
def test_without_an_auth_token_every_webhook_refuses_everything(app, engine, rasa, token):
    """No token configured is no signature that can pass, not a signature check switched off."""
    app.config["WEB"] = dataclasses.replace(app.config["WEB"], twilio_auth_token=token or "")
    client = app.test_client()
    before = database_rows(engine)
    for path in twilio_routes(app):
        target = path + QUERIES.get(path, "")
        form = FORMS.get(path, OTHER)
        url = "http://localhost" + target
        for headers in ({}, {"X-Twilio-Signature": ""}, {"X-Twilio-Signature": signature("", url, form)}):
            assert client.post(target, data=form, headers=headers).status_code == 403, (path, headers)
    assert database_rows(engine) == before
    assert rasa[1] == []


def test_behind_a_proxy_only_the_public_url_is_accepted(app, engine, rasa):
    app.config["WEB"].public_base_url = "https://hotline.example.gov.cn/api"
    client = app.test_client()
    before = database_rows(engine)
    for path in twilio_routes(app):
        target = path + QUERIES.get(path, "")
        form = FORMS.get(path, OTHER)
        own_url = signature(TWILIO_TOKEN, "http://localhost" + target, form)
        assert client.post(target, data=form, headers={"X-Twilio-Signature": own_url}).status_code == 403, path
    assert database_rows(engine) == before
    assert rasa[1] == []
    path = "/twilio/voice"
    public = signature(TWILIO_TOKEN, "https://hotline.example.gov.cn/api" + path, CALL)
    assert client.post(path, data=CALL, headers={"X-Twilio-Signature": public}).status_code == 200


def test_bad_input_in_a_signed_request_is_refused_and_changes_nothing(app, engine, rasa):
    client = app.test_client()
    before = database_rows(engine)
    bad = [
        ("/twilio/sms", {"Body": "我的社保卡丢了", "MessageSid": "SM" + "4" * 32}),  # no sender
        ("/twilio/sms", {"From": "not a number", "Body": "hi", "MessageSid": "SM" + "5" * 32}),
        ("/twilio/sms", {"From": "+8613912345678", "Body": "hi"}),  # no MessageSid
        ("/twilio/sms-status", {"MessageSid": "nonsense", "MessageStatus": "failed"}),
        ("/twilio/sms-status", {"MessageSid": SENT_SID}),
    ]
    for path, form in bad:
        headers = {"X-Twilio-Signature": signature(TWILIO_TOKEN, "http://localhost" + path, form)}
        assert client.post(path, data=form, headers=headers).status_code == 400, form
    assert database_rows(engine) == before
    assert rasa[1] == []
