import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import QuestionsForTheServiceHall


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
        ("不对 我问的是能不能别人代办", "deny"),  # someone else acting for the holder
        ("can my wife sign for it", "inform"),
        ("他本人来不了 我能代他办吗", "inform"),
        ("注销要带什么材料", "inform"),  # a follow-up about closing
        ("我老公去帮我领行不行", "nlu_fallback"),
        ("can my husband go instead", "nlu_fallback"),
        ("我要注销社保卡 320104199201306062 杨帆", "check_progress"),  # 注销 is a word of progress too
    ],
)
def test_questions_only_a_service_hall_settles_are_none_of_the_tasks(text, intent):
    (message,) = QuestionsForTheServiceHall().process([classified(text, intent)])
    assert message.get(INTENT) == {"name": "out_of_scope", "confidence": 0.9}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("cancel my card's loss report", "cancel_loss"),
        ("取消挂失", "cancel_loss"),
        ("我的卡被注销了吗", "check_progress"),  # its state
        ("为什么注销了", "check_progress"),
        ("为啥被注销了？我没注销过啊", "check_progress"),
        ("卡丢了 要不要注销", "report_loss"),  # a loss
        ("cancel the card", "deny"),  # a no at a confirmation stays a no
        ("can I report it lost in person", "report_loss"),
        ("做好了吗 能让我老婆代领吗", "check_progress"),  # the progress answer names what to bring
        ("帮我妈查一下进度", "check_progress"),
        ("社保卡补办 要本人去吗", "replace_card"),  # answered, then the proxy note after it
        ("do I have to apply in person", "apply_card"),
        ("can my son pick up the card for me", "check_progress"),  # the state, then the proxy note
        ("激活要本人去吗", "activate_card"),
        ("多谢 我让我儿子去办", "thank"),
    ],
)
def test_other_messages_keep_their_intent(text, intent):
    (message,) = QuestionsForTheServiceHall().process([classified(text, intent)])
    assert message.get(INTENT)["name"] == intent
