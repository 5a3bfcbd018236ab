import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import DeniedLossIsAStatusQuestion


def classified(text: str, *ranking: tuple[str, float]) -> Message:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    # The component sees the text as TextNormaliser left it.
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: intents[0], INTENT_RANKING_KEY: intents})


@pytest.mark.parametrize(
    "text",
    [
        "我没挂失啊 为啥医院说我卡用不了",
        "我说了我没丢卡！",
        "我从来没有挂失过",
        "我沒有掛失，為什麼卡不能用了",
        "卡没丢，就是刷不了",
        "I didn't lose my card, why is it blocked",
        "I never reported it lost",
    ],
)
def test_a_loss_denied_asks_about_the_card_state(text):
    (message,) = DeniedLossIsAStatusQuestion().process(
        [classified(text, ("report_loss", 0.9), ("check_progress", 0.06), ("deny", 0.04))]
    )
    assert message.get(INTENT) == {"name": "check_progress", "confidence": 0.9}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["check_progress", "deny"]


@pytest.mark.parametrize(
    "text",
    [
        "我卡丢了，还没来得及挂失",
        "丢了还没挂失",
        "卡找不到了，我没报失过，要怎么办",
        "I lost my card and haven't reported it yet",
        "我要挂失",
    ],
)
def test_a_loss_not_yet_reported_is_still_a_loss_report(text):
    (message,) = DeniedLossIsAStatusQuestion().process(
        [classified(text, ("report_loss", 0.9), ("check_progress", 0.1))]
    )
    assert message.get(INTENT)["name"] == "report_loss"


def test_other_intents_are_left_alone():
    (message,) = DeniedLossIsAStatusQuestion().process([classified("我没丢，找到了，解挂", ("cancel_loss", 0.9))])
    assert message.get(INTENT)["name"] == "cancel_loss"
