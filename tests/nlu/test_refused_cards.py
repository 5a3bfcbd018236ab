import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import RefusedCardsAreStatusQuestions


def classified(text: str, intent: str, confidence: float) -> Message:
    ranking = [{"name": intent, "confidence": confidence}, {"name": "check_progress", "confidence": 0.1}]
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: ranking[0], INTENT_RANKING_KEY: ranking})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("卡用不了了", "deny"),
        ("我的卡好像被冻住了", "report_loss"),
        ("医院刷不了卡 怎么回事", "replace_card"),
        ("药店说我的卡显示挂失", "report_loss"),
        ("my card is blocked", "report_loss"),
        ("it stopped working at the pharmacy today", "goodbye"),
        ("card got declined at the hospital", "out_of_scope"),
        ("医院说我的卡不能用 被拒绝了", "report_loss"),
        ("yo my card dont work at the pharmacy, says card abnormal", "report_loss"),
        ("我在医院刷卡 人家说卡被拒绝了", "cross_region"),  # no other region in it
        ("my card got rejected at the hospital today, it won't go through", "activate_card"),
        ("社保卡在诊所结算不了，提示“卡已挂失”", "cancel_loss"),  # no request to unblock in it
    ],
)
def test_a_card_refused_where_it_is_used_asks_for_its_state(text, intent):
    (message,) = RefusedCardsAreStatusQuestions().process([classified(text, intent, 0.4)])
    assert message.get(INTENT) == {"name": "check_progress", "confidence": 0.9}  # the words decide
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["check_progress"]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("卡丢了 现在用不了", "report_loss"),  # a loss said too
        ("帮我把卡冻结了", "report_loss"),  # a request to block it
        ("block my card please", "report_loss"),
        ("卡被冻结了 帮我解冻", "cancel_loss"),  # a request to unblock
        ("卡坏了 刷不了", "replace_card"),  # broken: a replacement
        ("my card is cracked and won't scan", "replace_card"),
        ("社保卡弯了，机器刷不了，要换", "replace_card"),
        ("字都磨没了 去银行人家说读不出来 让我来换", "replace_card"),
        ("不是 我卡没丢 就是刷不了", "deny"),  # a no to what was asked
        ("挂失后是不是就不能用了", "report_loss"),  # a supposition
        ("在外地刷不了卡", "cross_region"),  # answered as another region's question
        ("新卡刷不了是不是没激活", "activate_card"),
        ("挂失后就不能用了吗", "report_loss"),
        ("社保卡在全国能不能用", "cross_region"),  # an A-not-A question, no refusal
        ("被拒了还能再申请吗", "apply_card"),  # an application refused, not a card
        ("uh hi my card stopped working and i need a new one", "replace_card"),
        ("查一下我的卡", "check_progress"),
    ],
)
def test_other_messages_keep_their_intent(text, intent):
    (message,) = RefusedCardsAreStatusQuestions().process([classified(text, intent, 0.8)])
    assert message.get(INTENT)["name"] == intent
