import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.errors import InvalidPhoneNumber
from bot.language.phones import last_four, matches_last_four, parse_phone, same_phone


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("13912345678", "+8613912345678"),
        ("139 1234 5678", "+8613912345678"),
        ("+86 139-1234-5678", "+8613912345678"),
        ("0086 13912345678", "+8613912345678"),
        ("8613912345678", "+8613912345678"),
        ("１３９１２３４５６７８", "+8613912345678"),
        ("幺三九幺二三四五六七八", "+8613912345678"),
        ("010-12345678", "+861012345678"),
        ("021 6123 4567", "+862161234567"),
    ],
)
def test_parse_to_e164(raw, e164):
    assert parse_phone(raw) == e164


@pytest.mark.parametrize("raw", ["", "12345", "abc", "139123456789999", "+1 202"])
def test_invalid_numbers_are_rejected(raw):
    with pytest.raises(InvalidPhoneNumber):
        parse_phone(raw)


def test_last_four_and_matching():
    assert last_four("+8613912345678") == "5678"
    assert matches_last_four("五六七八", "+8613912345678")
    assert not matches_last_four("5679", "+8613912345678")
    assert not matches_last_four("45678", "+8613912345678")


def test_caller_id_comparison():
    assert same_phone("+8613912345678", "+8613912345678")
    assert same_phone("13912345678", "+8613912345678")
    assert not same_phone(None, "+8613912345678")
    assert not same_phone("anonymous", "+8613912345678")
    assert not same_phone("+8613912345679", "+8613912345678")


@given(st.text(max_size=30))
def test_parse_never_crashes(text):
    try:
        result = parse_phone(text)
    except InvalidPhoneNumber:
        return
    assert result.startswith("+")
