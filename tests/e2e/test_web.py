"""The web app in front of the running assistant: chat page turns and SMS, end to end."""

import pytest
from twilio.request_validator import RequestValidator

from bot.config import load_settings
from tests.support import TWILIO_TOKEN, make_web_settings, open_chat_page
from webhooks import create_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web_client(stack):
    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    return open_chat_page(create_app({"WEB": web, "TESTING": True}).test_client())


def test_chat_turns_through_the_web_app(web_client):
    first = web_client.post("/chat/message", json={"message": "你好"}).get_json()["replies"]
    assert any("社保卡智能助手" in text for text in first)
    second = web_client.post("/chat/message", json={"message": "how do I activate my card?"}).get_json()["replies"]
    assert any("activate" in text for text in second)


def test_sms_turn(web_client):
    form = {"From": "+8613900001005", "Body": "异地就医需要备案吗", "MessageSid": "SMe2e0001"}
    signature = RequestValidator(TWILIO_TOKEN).compute_signature("http://localhost/twilio/sms", form)
    response = web_client.post("/twilio/sms", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert "备案" in response.get_data(as_text=True)
