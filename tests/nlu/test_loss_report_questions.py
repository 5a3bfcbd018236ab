import pytest
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import LossReportQuestionsAreStatusQuestions, LossReportsNeedALoss


def classified(text: str, intent: str) -> Message:
    top = {"name": intent, "confidence": 0.8}
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: top, "intent_ranking": [top]})


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("挂失编号是多少来着", "cancel_loss"),
        ("我之前挂失了 想问问那个挂失什么时候过期", "cancel_loss"),
        ("how do I make the formal report?", "cancel_loss"),
        ("what's my reference number again", "report_loss"),
    ],
)
def test_a_question_about_a_loss_report_in_force_asks_for_the_card_state(text, intent):
    (message,) = LossReportQuestionsAreStatusQuestions().process([classified(text, intent)])
    assert message.get(INTENT)["name"] == "check_progress"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("卡找到了 挂失编号是1234567890 帮我解挂", "cancel_loss"),  # a request to unblock
        ("卡丢了 正式挂失怎么办", "report_loss"),  # a loss said with it
        ("我要挂失", "report_loss"),
    ],
)
def test_requests_keep_their_intent(text, intent):
    (message,) = LossReportQuestionsAreStatusQuestions().process([classified(text, intent)])
    assert message.get(INTENT)["name"] == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("能不能快一点啊 我急着用", "check_progress"),  # no word of a loss, a progress question's sound
        ("my dad wants to know where his card is", "check_progress"),
        ("I have no idea where my card is", "report_loss"),  # a loss, told so
        ("卡丢了 什么时候能补好", "report_loss"),
    ],
)
def test_a_loss_report_needs_a_word_of_a_loss(text, intent):
    (message,) = LossReportsNeedALoss().process([classified(text, "report_loss")])
    assert message.get(INTENT)["name"] == intent


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("问一下 万一以后社保卡掉了要怎么弄", "report_loss", "out_of_scope"),
        ("if my card ever got stolen what would I do", "report_loss", "out_of_scope"),
        ("挂失大概是个什么流程 我就问问", "check_progress", "out_of_scope"),
        ("我卡丢了 挂失流程是什么", "report_loss", "report_loss"),  # a loss told: reported, whatever else it asks
        ("I lost my card, what's the process", "report_loss", "report_loss"),
        ("卡丢了 要是找到了怎么办", "report_loss", "report_loss"),  # a finding supposed, not a loss
    ],
)
def test_a_loss_supposed_or_the_procedure_asked_is_a_question_not_a_report(text, intent, expected):
    (message,) = LossReportsNeedALoss().process([classified(text, intent)])
    assert message.get(INTENT)["name"] == expected


def test_whats_going_on_with_the_card_is_a_progress_question_not_a_loss():
    (message,) = LossReportsNeedALoss().process(
        [classified("what's going on with my card, 320102199007072028 Wang Fang", "report_loss")]
    )
    assert message.get(INTENT)["name"] == "check_progress"
