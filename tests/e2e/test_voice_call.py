"""A whole phone call through the voice webhooks and the running assistant, by the call simulator."""

import re

import pytest
from twilio.request_validator import RequestValidator

from bot.config import load_settings
from bot.demo import DEMO_CARDHOLDERS
from tests.webhooks.conftest import TWILIO_TOKEN, make_web_settings
from webhooks import create_app
from webhooks.call_simulator import Call

pytestmark = pytest.mark.e2e

HOLDER = next(d for d in DEMO_CARDHOLDERS if d.name == "孙强")  # rejected: re-used below only for progress
ACTIVE = next(d for d in DEMO_CARDHOLDERS if d.name == "Maria Garcia")


@pytest.fixture(scope="module")
def app_transport(stack):
    web = make_web_settings(load_settings(stack.env, env_file=None), rasa_url=stack.rasa_url, rasa_token=stack.token)
    client = create_app({"WEB": web, "TESTING": True}).test_client()
    validator = RequestValidator(TWILIO_TOKEN)

    def post(path, form):
        signature = validator.compute_signature("http://localhost" + path, form)
        response = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
        return response.status_code, response.get_data(as_text=True)

    return post


def test_verbal_loss_report_by_keypad_and_last_four(stack, app_transport):
    keyed_id = "keys:" + ACTIVE.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["我的社保卡丢了", keyed_id, "keys:" + ACTIVE.phone[-4:] + "#", "确认"]), echo=False
    )
    spoken = " ".join(call.spoken)
    references = re.findall(r"(?<!\d)\d{10}(?!\d)", spoken)
    stored = [r["reference"] for r in stack.card(ACTIVE.id_number)["loss_reports"] if r["state"] == "active"]
    assert len(stored) == 1
    assert references.count(stored[0]) == 2, call.spoken  # read back twice
    assert not any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_hanging_up_mid_flow_is_flagged(stack, app_transport):
    call = Call(app_transport).run(iter(["查一下办理进度"]), echo=False)
    assert call.ended == "caller hung up"
    assert any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_english_on_the_keypad_then_progress(stack, app_transport):
    call = Call(app_transport, caller=HOLDER.phone).run(
        iter(["keys:9", "what is the status of my card application", HOLDER.id_number]), echo=False
    )
    assert any("did not pass review" in text for text in call.spoken), call.spoken


def test_the_keyed_id_number_is_read_back_before_the_last_four_digits(stack, app_transport):
    holder = next(d for d in DEMO_CARDHOLDERS if d.name == "杨帆")
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["挂失", "keys:" + holder.id_number + "#"]), echo=False
    )
    assert any(holder.id_number in text and "后四位" in text for text in call.spoken), call.spoken
