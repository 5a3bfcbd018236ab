"""Threat: a number the assistant accepts is shown unmasked to reviewers, because masking and
extraction disagree on what may stand between its digits (``320/102/198/605/257/079``)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.identity.idnumbers import validate_id_number, with_check_character
from bot.language.extraction import extract_numbers
from bot.language.redaction import mask_text
from bot.language.spoken import NUMERAL_WORDS, SEPARATOR_CHARS

ID = "320102198605257079"
PHONE = "13900001007"
# Every character the one definition of separators allows, found by asking it.
SEPARATORS = [chr(c) for c in range(0x3100) if re.fullmatch(f"[{SEPARATOR_CHARS}]", chr(c))]
_ZH = dict(zip("0123456789", "零一二三四五六七八九", strict=True))
_DIGITISH = re.compile(rf"[\d{NUMERAL_WORDS}]")


def visible_digits(masked: str) -> int:
    return len(_DIGITISH.findall(unicodedata.normalize("NFKC", masked)))


def grouped(number: str, separator: str, size: int = 3) -> str:
    return separator.join(number[i : i + size] for i in range(0, len(number), size))


def test_the_separators_include_the_ones_people_use():
    assert {"/", "_", "。", "、", "—", "-", " ", ",", "."} <= set(SEPARATORS)


@pytest.mark.parametrize("separator", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
def test_an_id_number_given_with_any_separator_is_read_and_masked(separator):
    said = grouped(ID, separator)
    assert validate_id_number(said) == ID  # the identity form takes it as the whole answer
    text = f"我的身份证是{said}谢谢"
    assert extract_numbers(text).id_numbers == [ID]
    masked = mask_text(text)
    assert visible_digits(masked) <= 8 and "谢谢" in masked


@pytest.mark.parametrize("separator", SEPARATORS, ids=lambda s: f"U+{ord(s):04X}")
def test_a_phone_given_with_any_separator_is_read_and_masked(separator):
    text = f"电话 {grouped(PHONE, separator, 4)} 谢谢"
    assert extract_numbers(text).phone_numbers == ["+86" + PHONE]
    assert visible_digits(mask_text(text)) <= 7


def test_the_reported_example_is_masked():
    masked = mask_text("320/102/198/605/257/079")
    assert visible_digits(masked) <= 8 and "198/605" not in masked


_ids = st.builds(
    lambda region, year, month, day, seq: with_check_character(f"{region}{year}{month:02d}{day:02d}{seq:03d}"),
    st.sampled_from(["110101", "320102", "440305", "510107"]),
    st.integers(1930, 2020),
    st.integers(1, 12),
    st.integers(1, 28),
    st.integers(0, 999),
)
_phones = st.builds(lambda second, rest: f"1{second}{rest:09d}", st.sampled_from("35789"), st.integers(0, 10**9 - 1))


@st.composite
def said_numbers(draw) -> tuple[str, str]:
    """A number as someone might type or a recogniser might write it: grouped, separated, in any digits."""
    number = draw(st.one_of(_ids, _phones))
    groups, rest = [], number
    while rest:
        size = draw(st.integers(1, 6))
        groups.append(rest[:size])
        rest = rest[size:]
    form = draw(st.sampled_from(["ascii", "fullwidth", "chinese", "mixed"]))
    written = []
    for group in groups:
        kind = draw(st.sampled_from(["ascii", "fullwidth", "chinese"])) if form == "mixed" else form
        if kind == "fullwidth":
            group = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() else ch for ch in group)
        elif kind == "chinese":
            group = "".join(_ZH.get(ch, ch) for ch in group)
        written.append(group)
    text = written[0]
    for group in written[1:]:
        text += draw(st.text(st.sampled_from(SEPARATORS), min_size=1, max_size=4)) + group
    return number, text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(said=said_numbers(), before=st.sampled_from(["", "我的号码是", "my number is ", "好的，"]))
@example(said=(ID, "320/102/198/605/257/079"), before="")
@example(said=(ID, "三二/零一/零二/一九/八六/零五/二五/七零/七九"), before="")
# Spoken digits and separators that align badly with their normalised form: none may come back as written.
@example(said=("110101193001010093", "一_一_零_一_零一一九三零_零一零一零零_\xa0九三"), before="")
def test_whatever_could_be_accepted_as_a_number_is_masked(said, before):
    """Masking hides every such number, whether the extractor or the identity form reads it or not."""
    _number, text = said
    assert visible_digits(mask_text(before + text)) <= 8
