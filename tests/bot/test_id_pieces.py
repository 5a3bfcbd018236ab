"""An ID number given in pieces over several phone turns."""

import pytest

from bot.identity.id_pieces import Joined, id_piece, join_piece
from bot.identity.idnumbers import with_check_character

WHOLE = with_check_character("32010219860525707")
ENDS_IN_X = next(n for n in (with_check_character(f"11010119900101{i:03d}") for i in range(200)) if n.endswith("X"))


@pytest.mark.parametrize(
    ("text", "piece"),
    [
        ("320102", "320102"), ("三二零一零二", "320102"), ("3201 0219", "32010219"), ("1", "1"),
        ("0525707X", "0525707X"),
        ("号码是 三二零一零二 一九九零", "3201021990"),  # words said around the piece
        ("好了 零七零七二零二八", "07072028"),
        ("nine three two two five zero", "932250"),  # English digits, as Chinese ones are
        ("my ID is one nine eight zero", "1980"),
        ("三二零一零二 等一下 我看看身份证", "320102"),  # a pause after a piece keeps it
        ("three two zero one zero two wait", "320102"),
    ],
)  # fmt: skip
def test_short_digit_runs_are_pieces(text, piece):
    assert id_piece(text) == piece


@pytest.mark.parametrize("text", [WHOLE, "我的卡丢了", "确认", "X123", "", "12a34", "等一下 我看看"])
def test_whole_numbers_and_words_are_not_pieces(text):
    assert id_piece(text) is None


@pytest.mark.parametrize("cut", [6, 10, 14, 17])
def test_two_pieces_make_the_number_when_the_check_character_passes(cut):
    first = join_piece(None, WHOLE[:cut])
    assert first == Joined(held=WHOLE[:cut])
    assert join_piece(first.held, WHOLE[cut:]) == Joined(number=WHOLE)


def test_three_pieces_and_a_final_x():
    held = join_piece(join_piece(None, ENDS_IN_X[:6]).held, ENDS_IN_X[6:12]).held
    assert join_piece(held, ENDS_IN_X[12:]) == Joined(number=ENDS_IN_X)


def test_a_wrong_check_character_or_too_many_digits_joins_nothing():
    wrong = WHOLE[:17] + ("0" if WHOLE[17] != "0" else "1")
    assert join_piece(WHOLE[:6], wrong[6:]) == Joined()
    assert join_piece(WHOLE[:10], WHOLE[:10]) == Joined()
    assert join_piece(None, "1234X") == Joined()  # an X can only end the whole number
