import pytest

from bot.cards.statuses import LABELS, TRANSITIONS, CardStatus, check_transition, parse_status
from bot.errors import InvalidTransition, UnknownStatus


def test_every_status_has_both_labels_and_transitions():
    assert set(LABELS) == set(CardStatus) == set(TRANSITIONS)
    assert CardStatus.SHIPPED.label("zh") == "已寄往领卡网点"
    assert CardStatus.SHIPPED.label("en") == "on its way to the pickup office"


def test_the_application_moves_forward():
    check_transition(CardStatus.SUBMITTED, CardStatus.UNDER_REVIEW)
    check_transition(CardStatus.READY_FOR_PICKUP, CardStatus.ISSUED)
    check_transition(CardStatus.ISSUED, CardStatus.ACTIVE)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (CardStatus.SUBMITTED, CardStatus.ACTIVE),
        (CardStatus.CANCELLED, CardStatus.ACTIVE),
        (CardStatus.LOST, CardStatus.ACTIVE),
        (CardStatus.SHIPPED, CardStatus.LOSS_REPORTED),
    ],
)
def test_disallowed_transitions(current, new):
    with pytest.raises(InvalidTransition):
        check_transition(current, new)


def test_cancelled_is_final():
    assert TRANSITIONS[CardStatus.CANCELLED] == frozenset()


def test_parse_status():
    assert parse_status(" active ") is CardStatus.ACTIVE
    with pytest.raises(UnknownStatus):
        parse_status("activated")
