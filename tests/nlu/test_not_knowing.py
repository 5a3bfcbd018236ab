import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import NotKnowingIsNoNo


def classified(text: str, intent: str) -> Message:
    top = {"name": intent, "confidence": 0.54}
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: top, "intent_ranking": [top]})


@pytest.mark.parametrize(("text", "intent"), [("我不记得身份证号了", "inform"), ("I don't know his number", "inform"),
                                              ("不记得了，算了", "deny"), ("不要", "deny")])  # fmt: skip
def test_not_knowing_is_an_answer_unless_a_stop_is_said_too(text, intent):
    (message,) = NotKnowingIsNoNo().process([classified(text, "deny")])
    assert message.get(INTENT)["name"] == intent
