import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidIdNumber
from bot.identity.idnumbers import is_valid_id_number, validate_id_number, with_check_character

VALID = "11010519491231002X"


def test_valid_resident_id():
    assert validate_id_number(VALID) == VALID


@pytest.mark.parametrize(
    "given_form",
    [
        "11010519491231002x",
        "110105 19491231 002X",
        "110105-19491231-002X",
        "１１０１０５１９４９１２３１００２Ｘ",
        "幺幺洞幺洞五 幺九四九幺两三幺 洞洞两叉",
    ],
)
def test_forms_people_give_are_normalised(given_form):
    assert validate_id_number(given_form) == VALID


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100AX", "format"),
        ("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X", "format"),
        ("110105194912310020", "checksum"),
        (with_check_character("11010519491331002"), "birth_date"),
        (with_check_character("99990019900101002"), "region"),
        (with_check_character("00000019900101002"), "region"),
    ],
)
def test_rejections_carry_a_reason(number, reason):
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number)
    assert caught.value.reason == reason
    assert str(caught.value)


def test_birth_date_in_the_future_is_rejected():
    number = with_check_character("11010520300101002")
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(number, today=dt.date(2026, 11, 29))
    assert caught.value.reason == "birth_date"


def test_foreign_permanent_resident_id():
    number = with_check_character("93225019800520012")
    assert number.startswith("9")
    assert validate_id_number(number) == number


def test_foreign_id_with_unknown_province_is_rejected():
    with pytest.raises(InvalidIdNumber) as caught:
        validate_id_number(with_check_character("99925019800520012"))
    assert caught.value.reason == "region"


def test_check_character_matches_brief_algorithm():
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    body = "32010219850312101"
    expected = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    assert with_check_character(body)[-1] == expected


@given(st.text(max_size=40))
def test_malformed_text_never_crashes(text):
    try:
        result = validate_id_number(text)
    except InvalidIdNumber:
        return
    assert len(result) == 18 and is_valid_id_number(result)


@given(st.integers(min_value=0, max_value=16), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_caught(position, replacement):
    changed = VALID[:position] + replacement + VALID[position + 1 :]
    if changed != VALID:
        assert not is_valid_id_number(changed)
