"""Replies to a confirmation over the signed channel: only an unambiguous yes changes the card."""

import json
import re

import pytest

from tests.e2e.cardholders import add_holder

pytestmark = pytest.mark.e2e

# Negations, hesitations and postponements in Mandarin, Cantonese, Sichuanese and English.
NOT_YES = [
    "不要",
    "先不挂了",
    "等等，我再找找",
    "让我先看看包里",
    "暂时不用",
    "算了吧，回头再说",
    "我先问问我儿子",
    "唔好住",
    "唔使喇，我再搵下",
    "咪住先",
    "不得行",
    "莫挂，要不得",
    "算球了",
    "no",
    "not yet",
    "wait, let me look again first",
    "forget it for now",
    "maybe later",
    "I'd rather not",
]


def statuses(stack, holder):
    card = stack.card(holder.id_number)
    return card["status"], [r["state"] for r in card["loss_reports"]]


def test_no_negation_ever_confirms(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "钱淑芬")
    before = statuses(stack, holder)
    sender = "e2e-confirm-negations"
    stack.say(sender, "我的社保卡丢了")
    stack.say(sender, holder.id_number)
    for reply in NOT_YES:
        asked = stack.say(sender, holder.name) if reply == NOT_YES[0] else stack.say(sender, "我要挂失社保卡")
        assert any("确认挂失" in text for text in asked), (reply, asked)
        answer = stack.say(sender, reply)
        assert statuses(stack, holder) == before, (reply, answer)
        assert not any("挂失编号" in text or "Reference" in text for text in answer), (reply, answer)
    assert not any(f["conversation_id"] == sender and f["reason"] == "nlu_fallback" for f in stack.flags())


@pytest.mark.parametrize("pause", ["嗯 我想想", "hold on, let me check my bag"])
def test_a_pause_at_the_confirmation_keeps_it_waiting_and_the_yes_after_it_acts(stack, tmp_path, pause):
    holder = add_holder(
        stack, tmp_path, "凌海燕" if pause.startswith("嗯") else "Paula Moreno", foreign=pause.isascii()
    )
    sender = f"e2e-confirm-pause-{holder.id_number[-4:]}"
    for message in ("我的社保卡丢了", holder.id_number, holder.name):
        stack.say(sender, message)
    waiting = stack.say(sender, pause)
    assert any("不着急" in text or "take your time" in text for text in waiting), waiting
    assert stack.card(holder.id_number)["status"] == "active"
    done = stack.say(sender, "确认")
    assert any("挂失编号" in text or "Reference" in text for text in done), done
    assert stack.card(holder.id_number)["status"] == "loss_reported"


def test_a_yes_that_restates_the_task_confirms(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "孔令辉")
    sender = "e2e-confirm-restated"
    for message in ("社保卡不见了，帮我挂失", holder.id_number, holder.name):
        stack.say(sender, message)
    answer = stack.say(sender, "是的，办吧")
    assert any("挂失编号" in text for text in answer), answer
    assert stack.card(holder.id_number)["status"] == "loss_reported"


def test_a_change_of_mind_after_a_no_is_asked_again_then_honoured(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "冯晓梅")
    sender = "e2e-confirm-mind"
    for message in ("我的社保卡丢了", holder.id_number, holder.name):
        stack.say(sender, message)
    assert any("没有为您办理" in text for text in stack.say(sender, "先不用了"))
    again = stack.say(sender, "哦不对，还是帮我挂失吧")
    assert stack.card(holder.id_number)["status"] == "active"  # offered again, not done
    assert any("确认挂失" in text for text in again), again
    assert any("挂失编号" in text for text in stack.say(sender, "确认"))
    assert stack.card(holder.id_number)["status"] == "loss_reported"


def test_unclear_replies_are_asked_again_then_nothing_is_done(stack, tmp_path):
    holder = add_holder(
        stack,
        tmp_path,
        "褚建国",
    )
    sender = "e2e-confirm-unclear"
    for message in ("I lost my card", holder.id_number, holder.name):
        stack.say(sender, message)
    question = stack.say(sender, "will my bank card still work?")  # answered, and asked again
    assert any("bank" in text and "yes" in text and "press" not in text for text in question), question
    first, second = stack.say(sender, "hmm"), stack.say(sender, "blah blah")
    assert any("press" not in text and "yes" in text for text in first + second), (first, second)
    third = stack.say(sender, "erm")
    assert any("haven't changed anything" in text for text in third), third
    assert stack.card(holder.id_number)["status"] == "active"
    flags = [f for f in stack.flags() if f["conversation_id"] == sender]
    assert not any(f["reason"] in {"nlu_fallback", "human_requested"} for f in flags)


def _code_reply(stack, sender):
    """Type the newest one-time code (no Twilio account here: it is in the local sink)."""
    outbox = json.loads(stack.cli("outbox", "list", "--json").stdout)
    code_text = next(m["text"] for m in outbox if m["kind"] == "code")  # newest first
    return stack.say(sender, re.search(r"\d{6}", code_text).group(0))


def test_a_hesitation_at_the_unblock_confirmation_keeps_the_loss_report(stack, tmp_path):
    holder = add_holder(stack, tmp_path, "卫东升")
    sender = "e2e-confirm-unblock"
    for message in ("我的卡丢了", holder.id_number, holder.name, "确认"):
        stack.say(sender, message)
    assert stack.card(holder.id_number)["status"] == "loss_reported"
    for hesitation in ("唔好住，我再谂下", "先别解，我再想想"):
        assert any("验证码" in text for text in stack.say(sender, "卡找到了，我要解挂"))
        asked = _code_reply(stack, sender)
        assert any("确认解挂" in text for text in asked), asked
        answer = stack.say(sender, hesitation)
        assert stack.card(holder.id_number)["status"] == "loss_reported", (hesitation, answer)
        assert any("没有为您办理" in text for text in answer), answer


@pytest.mark.parametrize(
    ("request_", "staff", "not_done"),
    [
        ("我的社保卡丢了", "转人工", "没有为您办理"),
        ("I lost my card", "can I speak to someone from your staff", "haven't changed"),
    ],
)
def test_staff_asked_for_at_the_confirmation_changes_nothing_and_hands_over(stack, tmp_path, request_, staff, not_done):
    holder = add_holder(stack, tmp_path, "蒋文博" if request_.startswith("我") else "沈佳宁")
    sender = f"e2e-confirm-staff-{holder.id_number[-4:]}"
    for message in (request_, holder.id_number, holder.name):
        stack.say(sender, message)
    answer = stack.say(sender, staff)
    assert any(not_done in text for text in answer), answer
    assert not any("暂时无法处理" in text or "can't help with that here" in text for text in answer), answer
    assert stack.card(holder.id_number)["status"] == "active"
    assert any(f["conversation_id"] == sender and f["reason"] == "human_requested" for f in stack.flags())
    # Nothing is still waiting for a yes: a later "确认" / "yes" changes nothing.
    stack.say(sender, "确认" if request_.startswith("我") else "yes")
    assert stack.card(holder.id_number)["status"] == "active"
