import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.language.text import normalise_for_understanding
from nlu.reclassifiers import UnblockRequestsAreNotLossReports


def classified(text: str, *ranking: tuple[str, float]) -> Message:
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    # The component sees the text as TextNormaliser left it.
    return Message(data={TEXT: normalise_for_understanding(text), INTENT: intents[0], INTENT_RANKING_KEY: intents})


def reclassified(text: str) -> Message:
    (message,) = UnblockRequestsAreNotLossReports().process(
        [classified(text, ("report_loss", 0.84), ("cancel_loss", 0.15), ("deny", 0.01))]
    )
    return message


@pytest.mark.parametrize(
    "text",
    [
        "社保卡被冻结了 看病刷不出来 麻烦帮我解冻",
        "我那张卡挂失了 现在想解锁",
        "上礼拜报的挂失，卡在沙发底下找着了",
        "卡丢了后来又找回来了",
        "no no i HAVE the card, it's in my hand",  # the card in hand: a report on it is to be lifted
        "临时挂失还没过期 卡找到了怎么解",  # a denial in another clause does not deny the finding
        "please cancel the loss report for my mother's card, she is 80 and has no mobile",
        "it was reported lost but I found it in the car yesterday, what now",
        "I need my card unfrozen, the pharmacy says it is blocked",
        "can you lift the block on my card",
    ],
)
def test_a_request_to_lift_a_loss_report_or_a_card_found_is_never_a_loss_report(text):
    message = reclassified(text)
    assert message.get(INTENT) == {"name": "cancel_loss", "confidence": 0.84}
    assert [r["name"] for r in message.get(INTENT_RANKING_KEY)] == ["cancel_loss", "deny"]


@pytest.mark.parametrize(
    "text",
    [
        "我卡丢了",
        "卡丢了 要是找到了怎么办",  # a finding supposed
        "卡丢了还没找到",
        "找到了又丢了",  # lost again after
        "帮我冻结这张卡",
        "I lost my card, if I found it later could I still use it",
        "I haven't found it anywhere",
    ],
)
def test_a_loss_with_no_finding_or_lifting_stays_a_loss_report(text):
    assert reclassified(text).get(INTENT)["name"] == "report_loss"


def test_other_intents_are_left_alone():
    (message,) = UnblockRequestsAreNotLossReports().process([classified("帮我解冻", ("cross_region", 0.6))])
    assert message.get(INTENT)["name"] == "cross_region"


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("卡被锁了 药店刷不了 帮我解锁", "cancel_loss"),
        ("I want my card unblocked please, the clinic refused it", "cancel_loss"),
        ("帮我查一下解挂了没有", "check_progress"),  # a look at the card
        ("我想知道解挂成功没", "check_progress"),  # whether it is done
        ("the card was unblocked yesterday, is it working now", "check_progress"),  # no request
    ],
)
def test_an_unblocking_asked_for_in_words_is_no_status_question(text, intent):
    (message,) = UnblockRequestsAreNotLossReports().process([classified(text, ("check_progress", 0.5))])
    assert message.get(INTENT)["name"] == intent
