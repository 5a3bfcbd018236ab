import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu.components import QuestionsAreNotGoodbyes
from nlu.reclassifiers import ThanksWithNothingMoreAreGoodbyes


def classified(text: str, *ranking: tuple[str, float]) -> Message:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message(data={TEXT: text, INTENT: intents[0], INTENT_RANKING_KEY: intents})


@pytest.mark.parametrize("text", ["哦那还要等多久", "审核要几天啊？", "how long does it take", "不用了吗"])
@pytest.mark.parametrize("farewell", ["goodbye", "deny"])
def test_a_question_is_never_taken_for_a_farewell(text, farewell):
    (message,) = QuestionsAreNotGoodbyes().process([classified(text, (farewell, 0.8), ("check_progress", 0.15))])
    assert message.get(INTENT) == {"name": "check_progress", "confidence": 0.15}  # the fallback may ask to rephrase
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["check_progress"]


@pytest.mark.parametrize(("text", "intent"), [("好的再见", "goodbye"), ("不用了，谢谢", "deny"), ("no thanks", "deny")])
def test_a_farewell_that_asks_nothing_stands(text, intent):
    (message,) = QuestionsAreNotGoodbyes().process([classified(text, (intent, 0.9), ("thank", 0.1))])
    assert message.get(INTENT)["name"] == intent


@pytest.mark.parametrize(
    ("text", "closing"),
    [("哦那大概还要多久啊", "thank"), ("那我是先找找还是先挂", "goodbye"), ("thanks, when can I pick it up", "thank")],
)
def test_a_question_is_never_taken_for_thanks_or_an_either_or_for_a_goodbye(text, closing):
    (message,) = QuestionsAreNotGoodbyes().process([classified(text, (closing, 0.8), ("report_loss", 0.2))])
    assert message.get(INTENT)["name"] == "report_loss"


@pytest.mark.parametrize("text", ["谢谢你", "算了还是不要了", "好的，还是谢谢"])
def test_thanks_and_a_no_that_ask_nothing_stand(text):
    (message,) = QuestionsAreNotGoodbyes().process([classified(text, ("thank", 0.9), ("deny", 0.1))])
    assert message.get(INTENT)["name"] == "thank"


@pytest.mark.parametrize(
    "text", ["好的 谢谢 没有了", "谢谢，没别的了", "thanks, that's all", "ok thank you, nothing else"]
)
def test_thanks_that_want_nothing_more_are_a_goodbye(text):
    (message,) = ThanksWithNothingMoreAreGoodbyes().process([classified(text, ("thank", 0.9), ("goodbye", 0.1))])
    assert message.get(INTENT) == {"name": "goodbye", "confidence": 0.9}


@pytest.mark.parametrize("text", ["谢谢", "谢谢，没有了吗？", "thanks, is that all?"])
def test_other_thanks_stand(text):
    (message,) = ThanksWithNothingMoreAreGoodbyes().process([classified(text, ("thank", 0.9), ("goodbye", 0.1))])
    assert message.get(INTENT)["name"] == "thank"
