from sqlalchemy import select

from bot.models import Flag
from tests.support import signed

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
