import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.components import ClosingACardIsNoCardTask


def classified(text: str, intent: str) -> Message:
    top = {"name": intent, "confidence": 0.5}
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: top, "intent_ranking": [top]})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("I want to cancel my card completely, I'm leaving China", "cancel_loss"),
        ("please cancel my card, I'm moving back home", "cancel_loss"),
        ("我要注销社保卡", "report_loss"),
        ("close my social security card", "report_loss"),
        ("出国定居了 社保卡怎么注销", "cross_region"),
    ],
)
def test_closing_a_card_for_good_is_none_of_the_tasks(text, intent):
    (message,) = ClosingACardIsNoCardTask().process([classified(text, intent)])
    assert message.get(INTENT) == {"name": "out_of_scope", "confidence": 0.9}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cancel my card's loss report", "cancel_loss"),
        ("取消挂失", "cancel_loss"),
        ("我的卡被注销了吗", "check_progress"),  # its state
        ("卡丢了 要不要注销", "report_loss"),  # a loss
        ("cancel the card", "deny"),  # a no at a confirmation stays a no
    ],
)
def test_other_messages_keep_their_intent(text, intent):
    (message,) = ClosingACardIsNoCardTask().process([classified(text, intent)])
    assert message.get(INTENT)["name"] == intent
