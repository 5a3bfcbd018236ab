"""Finding ID numbers and phone numbers in what people type or say.

The message is normalised first (full-width forms, Chinese and English digit words, 叉 / "letter
X"), then runs of digits separated only by spaces, dashes, commas or dots are joined in every
contiguous way: a join of 18 characters that passes the ID rules is an ID number, and a join that
`phonenumbers` accepts as a valid number is a phone. Values come out normalised (canonical ID,
E.164 phone), which is what the dialogue stores in its slots.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import InvalidIdNumber, InvalidPhoneNumber
from bot.idnumbers import ID_LENGTH, validate_id_number
from bot.phones import parse_phone
from bot.spoken import normalise_numbers_in_text

_EN_DIGITS = {
    "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_EN_REPEAT = {"double": 2, "triple": 3}
_EN_WORD = re.compile(r"\b(?:(double|triple)\s+)?(zero|oh|one|two|three|four|five|six|seven|eight|nine)\b", re.I)
_EN_RUN = re.compile(rf"{_EN_WORD.pattern}(?:[\s,\-]+{_EN_WORD.pattern})*", re.I)
_LETTER_X = re.compile(r"(?<=\d)[\s,]*(?:letter\s+)?[xX]\b")
# A digit run, optionally with a leading + or a trailing X; never the tail of a card number like A12345678.
_TOKEN = re.compile(r"(?<![A-Za-z0-9])\+?\d+(?:[Xx](?![A-Za-z]))?")
_JOINER = re.compile(r"[\s\-.,()]{0,3}")
_MIN_WORDS_IN_TEXT = 3
_MAX_PHONE_DIGITS = 16


@dataclass(frozen=True)
class Numbers:
    """The numbers found in one message, normalised; empty lists when there are none."""

    id_numbers: list[str]
    phone_numbers: list[str]


def _english_digits(text: str) -> str:
    def convert(match: re.Match[str]) -> str:
        words = list(_EN_WORD.finditer(match.group(0)))
        if sum(_EN_REPEAT.get((w.group(1) or "").lower(), 1) for w in words) < _MIN_WORDS_IN_TEXT:
            return match.group(0)
        return "".join(_EN_DIGITS[w.group(2).lower()] * _EN_REPEAT.get((w.group(1) or "").lower(), 1) for w in words)

    return _LETTER_X.sub("X", _EN_RUN.sub(convert, text))


def normalise_message(text: str) -> str:
    """The message with every spoken or full-width number written as ASCII digits."""
    return _english_digits(normalise_numbers_in_text(text))


def _chains(text: str) -> list[list[str]]:
    """Digit tokens grouped into chains whose tokens are separated only by separators."""
    chains: list[list[str]] = []
    last_end = None
    for match in _TOKEN.finditer(text):
        joined = last_end is not None and _JOINER.fullmatch(text[last_end : match.start()])
        if joined:
            chains[-1].append(match.group(0))
        else:
            chains.append([match.group(0)])
        last_end = match.end()
    return chains


def _take(tokens: list[str], used: list[bool], accept) -> list[str]:
    """Greedy left-to-right: the longest join of unused contiguous tokens that `accept` turns into a value."""
    found = []
    i = 0
    while i < len(tokens):
        for j in range(len(tokens), i, -1):
            if any(used[i:j]):
                continue
            value = accept("".join(tokens[i:j]))
            if value is not None:
                found.append(value)
                used[i:j] = [True] * (j - i)
                i = j - 1
                break
        i += 1
    return found


def _as_id(joined: str) -> str | None:
    if len(joined) != ID_LENGTH:
        return None
    try:
        return validate_id_number(joined)
    except InvalidIdNumber:
        return None


def _as_phone(joined: str) -> str | None:
    digits = joined.lstrip("+")
    if not digits.isdigit() or not 7 <= len(digits) <= _MAX_PHONE_DIGITS:
        return None
    try:
        return parse_phone(joined)
    except InvalidPhoneNumber:
        return None


def extract_numbers(text: str) -> Numbers:
    """ID numbers and phone numbers in a message, each once, in the order given."""
    ids: list[str] = []
    phones: list[str] = []
    for tokens in _chains(normalise_message(text)):
        used = [False] * len(tokens)
        ids += _take(tokens, used, _as_id)
        phones += _take(tokens, used, _as_phone)
    return Numbers(id_numbers=list(dict.fromkeys(ids)), phone_numbers=list(dict.fromkeys(phones)))
