"""A whole phone call through the voice webhooks and the running assistant, by the call simulator."""

import re

import pytest
from twilio.request_validator import RequestValidator

from bot.config import load_settings
from tests.e2e.cardholders import add_holder
from tests.support import TWILIO_TOKEN, make_web_settings
from webhooks import create_app
from webhooks.call_simulator import Call

pytestmark = pytest.mark.e2e


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


def test_verbal_loss_report_by_keypad_and_last_four(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "Sofia Rossi", foreign=True)
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["我的社保卡丢了", keyed_id, "keys:" + holder.phone[-4:] + "#", "确认"]), echo=False
    )
    spoken = " ".join(call.spoken)
    references = re.findall(r"(?<!\d)\d{10}(?!\d)", spoken)
    stored = [r["reference"] for r in stack.card(holder.id_number)["loss_reports"] if r["state"] == "active"]
    assert len(stored) == 1
    assert references.count(stored[0]) == 2, call.spoken  # read back twice
    assert not any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_hanging_up_mid_flow_is_flagged(stack, app_transport):
    call = Call(app_transport).run(iter(["查一下办理进度"]), echo=False)
    assert call.ended == "caller hung up"
    assert any(f["reason"] == "call_dropped" and f["conversation_id"] == f"call-{call.sid}" for f in stack.flags())


def test_english_on_the_keypad_then_progress(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "陆建平", "rejected")
    call = Call(app_transport, caller=holder.phone).run(
        iter(["keys:9", "what is the status of my card application", holder.id_number]), echo=False
    )
    assert any("did not pass review" in text for text in call.spoken), call.spoken


def test_the_keyed_id_number_is_read_back_before_the_last_four_digits(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "萧雅琴", "issued")
    call = Call(app_transport, caller="+8613000000000").run(
        iter(["挂失", "keys:" + holder.id_number + "#"]), echo=False
    )
    assert any(holder.id_number in text and "后四位" in text for text in call.spoken), call.spoken


def _verified_loss_call(holder, *answers: str) -> list[str]:
    """A loss report by phone up to its confirmation, then `answers`."""
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    return ["我的社保卡丢了", keyed_id, "keys:" + holder.phone[-4:] + "#", *answers]


def test_keypad_1_confirms_after_a_spoken_question_then_silence_ends_the_call(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "蒋文华")
    call = Call(app_transport, caller="+8613000000001").run(iter(_verified_loss_call(holder, "keys:1", "")), echo=False)
    spoken = " ".join(call.spoken)
    assert "按 1" in spoken and "请回复" not in spoken  # the phone's wording, not the chat's
    assert "键盘" in spoken and "井号" in spoken  # the ID question explains the keypad
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert "还有其他需要吗" in spoken
    assert call.ended == "bot hung up" and call.spoken[-1] == "感谢您的来电，再见。"
    mine = [f["reason"] for f in stack.flags() if f["conversation_id"] == f"call-{call.sid}"]
    assert "human_requested" not in mine and "call_dropped" not in mine  # no voicemail, no flag


@pytest.mark.parametrize("answer", ["keys:2", "等一下，我再找找", "唔好住", "不得行", "wait, not yet"])
def test_keypad_2_or_a_spoken_hesitation_changes_nothing(stack, app_transport, tmp_path, answer):
    holder = add_holder(stack, tmp_path, "沈玉兰")
    call = Call(app_transport, caller="+8613000000002").run(iter(_verified_loss_call(holder, answer)), echo=False)
    assert stack.card(holder.id_number)["status"] == "active", call.spoken
    assert any("没有为您办理" in text for text in call.spoken), call.spoken


def test_english_confirmation_on_the_phone_says_press_1(stack, app_transport, tmp_path):
    holder = add_holder(stack, tmp_path, "韩梅")
    keyed_id = "keys:" + holder.id_number.replace("X", "*") + "#"
    call = Call(app_transport, caller="+8613000000003").run(
        iter(["keys:9", "I lost my card", keyed_id, "keys:" + holder.phone[-4:] + "#", "keys:1", ""]), echo=False
    )
    spoken = " ".join(call.spoken)
    assert "press 1" in spoken and 'Reply "yes"' not in spoken
    assert "press star" in spoken and "hash" in spoken
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    assert "Anything else?" in spoken and call.ended == "bot hung up"


@pytest.mark.parametrize("cut", [6, 10])
def test_an_id_number_spoken_in_two_pieces_is_put_together(stack, app_transport, tmp_path, cut):
    holder = add_holder(stack, tmp_path, {6: "杨丽娟", 10: "杨建军"}[cut])
    first, rest = holder.id_number[:cut], holder.id_number[cut:]
    call = Call(app_transport, caller="+8613000000004").run(iter(["查一下办理进度", first, rest]), echo=False)
    assert any("后面的号码" in text for text in call.spoken), call.spoken
    assert any(holder.id_number in text and "后四位" in text for text in call.spoken), call.spoken
    assert not any("不是有效的身份证号码" in text for text in call.spoken), call.spoken
