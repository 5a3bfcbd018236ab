from sqlalchemy import select

from bot.models import Flag
from tests.support import make_web_settings, recording_rasa, signed
from webhooks import create_app

FORM = {"From": "+8613900001001", "Body": "我的社保卡丢了", "MessageSid": "SM123"}


def test_signed_sms_gets_twiml_reply(client):
    response = client.post("/twilio/sms", data=FORM, headers=signed(FORM))
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert "<Response><Message>" in response.get_data(as_text=True)


def test_unsigned_and_tampered_requests_are_refused(client):
    assert client.post("/twilio/sms", data=FORM).status_code == 403
    tampered = {**FORM, "Body": "解挂"}
    assert client.post("/twilio/sms", data=tampered, headers=signed(FORM)).status_code == 403
    assert (
        client.post("/twilio/sms", data=FORM, headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"}).status_code == 403
    )


def test_public_base_url_is_what_twilio_signed(app, client):
    app.config["WEB"].public_base_url = "https://hotline.example.gov.cn/api"
    proxied = "https://hotline.example.gov.cn/api/twilio/sms"
    assert client.post("/twilio/sms", data=FORM, headers=signed(FORM, proxied)).status_code == 200
    assert client.post("/twilio/sms", data=FORM, headers=signed(FORM)).status_code == 403


def test_empty_body_and_missing_sender(client):
    empty = {**FORM, "Body": ""}
    response = client.post("/twilio/sms", data=empty, headers=signed(empty))
    assert "请输入您要咨询的内容" in response.get_data(as_text=True)
    anonymous = {"Body": "hi"}
    assert client.post("/twilio/sms", data=anonymous, headers=signed(anonymous)).status_code == 400


def test_conversation_is_named_by_a_long_keyed_token_not_the_number(app, client, session):
    client.post("/twilio/sms", data=FORM, headers=signed(FORM))  # Rasa is down here: the turn is flagged
    (flag,) = session.scalars(select(Flag)).all()
    assert flag.conversation_id.startswith("sms-") and len(flag.conversation_id) == 4 + 32
    assert "13900001001" not in flag.conversation_id


def test_a_reply_that_offers_buttons_reaches_sms_as_its_text(settings, sessions):
    """SMS shows no buttons: the reply's text names the choices (tests/test_domain.py checks it does)."""
    text = "收到。请问您要办理什么业务：查询办理进度、挂失，还是解除挂失？"
    offered = [{"title": "挂失", "payload": "/report_loss"}, {"title": "解除挂失", "payload": "/cancel_loss"}]
    with recording_rasa(answer=[{"text": text, "buttons": offered}]) as (rasa_url, _heard):
        client = create_app({"WEB": make_web_settings(settings, rasa_url=rasa_url), "TESTING": True}).test_client()
        response = client.post("/twilio/sms", data=FORM, headers=signed(FORM))
    assert response.get_data(as_text=True).count("<Message>") == 1
    assert text in response.get_data(as_text=True) and "/report_loss" not in response.get_data(as_text=True)
