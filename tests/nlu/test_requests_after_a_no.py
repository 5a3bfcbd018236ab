import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import RequestsAfterANo


def classified(text: str, intent: str) -> Message:
    top = {"name": intent, "confidence": 0.95}
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: top, "intent_ranking": [top]})


@pytest.mark.parametrize(
    ("text", "intent", "task"),
    [
        ("不是不是 我是要查进度", "deny", "check_progress"),
        ("no no, I want to check her card", "deny", "check_progress"),
        ("不对 我想挂失", "deny", "report_loss"),
        ("no, i want to cancel the loss report", "goodbye", "cancel_loss"),
        ("不，我没丢卡，我要查一下状态", "deny", "check_progress"),  # the loss denied comes before the request
        ("好 那我现在又找不到了 帮我挂失吧", "affirm", "report_loss"),  # a yes with nothing to confirm
        ("喂 我卡能领了吗", "greet", "check_progress"),  # a greeting before the request
    ],
)
def test_a_no_followed_by_a_request_is_the_request(text, intent, task):
    (message,) = RequestsAfterANo().process([classified(text, intent)])
    assert message.get(INTENT) == {"name": task, "confidence": 0.95}


@pytest.mark.parametrize(
    "text",
    [
        "no I don't want to report it lost",
        "不用了 我不想挂失",
        "no thanks",
        "不要了 谢谢",
        "不是我要查的",
        "不用了，我不要查了",
    ],
)
def test_a_no_alone_or_to_the_task_stays_a_no(text):
    (message,) = RequestsAfterANo().process([classified(text, "deny")])
    assert message.get(INTENT)["name"] == "deny"


def test_thanks_for_what_was_done_stay_thanks():
    (message,) = RequestsAfterANo().process([classified("谢谢你帮我挂失", "thank")])
    assert message.get(INTENT)["name"] == "thank"
