"""Finding ID, phone and card numbers in what people type or say.

The message is normalised first (full-width forms, Chinese and English digit words, 叉 / "letter
X"), then runs of digits separated only by a few separators (`bot.language.spoken.SEPARATOR_CHARS`) are joined in every
contiguous way: a join of 18 characters that passes the ID rules is an ID number, and a join that
`phonenumbers` accepts as a valid number is a phone. Values come out normalised (canonical ID,
E.164 phone), which is what the dialogue stores in its slots.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass

from bot.errors import InvalidIdNumber, InvalidPhoneNumber
from bot.identity.idnumbers import ID_LENGTH, validate_id_number
from bot.language.phones import parse_phone
from bot.language.spoken import MIN_NUMBER_WORDS, SEPARATOR_CHARS, normalise_numbers_in_text

# The fillers of someone reading a number out, between its pieces ("三二零一零二 嗯 一九九零…").
_FILLERS = "嗯|呃|额|啊|那个|就是|然后|um|uh|er"
_SPACE_BETWEEN_DIGITS = re.compile(rf"(?<=\d)(?:\s+|\s*(?:{_FILLERS})\s*)(?=\d)")

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
# Card numbers: 9 letters and digits, mostly digits with at least one letter (all-digit ones would
# be indistinguishable from other numbers in running text, and words like "password1" are not cards).
_CARD_NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]{9}(?![A-Za-z0-9])")
_MIN_CARD_DIGITS = 6
_JOINER = re.compile(f"[{SEPARATOR_CHARS}]{{0,3}}|[{SEPARATOR_CHARS}]{{0,2}}(?:{_FILLERS})[{SEPARATOR_CHARS}]{{0,2}}")
_MAX_PHONE_DIGITS = 16
# The longest join either kind accepts: an ID number, or a phone's digits with a leading +.
_MAX_JOIN_LENGTH = max(ID_LENGTH, _MAX_PHONE_DIGITS + 1)
# Digit groups joined per message: an ID and a phone read out digit by digit are 29.
_MAX_TOKENS = 64


@dataclass(frozen=True)
class Found:
    """One number found: its kind, normalised value, and span in the normalised message."""

    kind: str
    value: str
    start: int
    end: int


@dataclass(frozen=True)
class Numbers:
    """The numbers found in one message, normalised; empty lists when there are none."""

    text: str
    found: list[Found]

    def values(self, kind: str) -> list[str]:
        return list(dict.fromkeys(f.value for f in self.found if f.kind == kind))

    @property
    def id_numbers(self) -> list[str]:
        return self.values("id_number")

    @property
    def phone_numbers(self) -> list[str]:
        return self.values("phone_number")

    @property
    def card_numbers(self) -> list[str]:
        return self.values("card_number")


def _english_digits(text: str) -> str:
    def convert(match: re.Match[str]) -> str:
        words = list(_EN_WORD.finditer(match.group(0)))
        if sum(_EN_REPEAT.get((w.group(1) or "").lower(), 1) for w in words) < MIN_NUMBER_WORDS:
            return match.group(0)
        return "".join(_EN_DIGITS[w.group(2).lower()] * _EN_REPEAT.get((w.group(1) or "").lower(), 1) for w in words)

    return _LETTER_X.sub("X", _EN_RUN.sub(convert, text))


def normalise_message(text: str) -> str:
    """The message with every spoken or full-width number written as ASCII digits."""
    return _english_digits(normalise_numbers_in_text(text))


def the_digits(answer: str) -> str | None:
    """The one run of digits in an answer to "which digits?" however they were said or spaced
    ("后四位是1234。", "幺零幺两", "one oh one two", "482 913"); None if there is none or more than one."""
    runs = re.findall(r"\d+", _SPACE_BETWEEN_DIGITS.sub("", normalise_message(answer)))
    return runs[0] if len(runs) == 1 else None


# Words that take back the digits before them: "一零二一，不对，一零一二", "1021 no sorry 1012".
_TAKEN_BACK = re.compile(
    r"不对|不是|错了|说错|我是说|应该是|(?<![a-z])(?:no|sorry|i mean|i meant|actually)(?![a-z])", re.I
)


def _taken_back(answer: str) -> tuple[str, str] | None:
    """The last two numbers of an answer when words between them take the first back ("1021, no
    sorry, 1012"), as (first, second); None otherwise."""
    said = _SPACE_BETWEEN_DIGITS.sub("", normalise_message(answer))
    numbers = list(re.finditer(r"\d+X?", said, re.IGNORECASE))
    if len(numbers) < 2 or not _TAKEN_BACK.search(said[numbers[-2].end() : numbers[-1].start()]):
        return None
    return numbers[-2].group(0).upper(), numbers[-1].group(0).upper()


def the_corrected_digits(answer: str) -> str | None:
    """The last run of digits in an answer that takes back the run before it, else None."""
    pair = _taken_back(answer)
    return pair[1] if pair and pair[1].isdigit() else None


def corrected_number(answer: str) -> str | None:
    """A long number whose end is said again after a correction ("…三零三八 不对不对 是三零三一"):
    the number with that end replaced, or None when the answer corrects nothing so."""
    pair = _taken_back(answer)
    if pair is None:
        return None
    whole, end = pair
    if len(whole) < 15 or not 1 <= len(end) <= 6:
        return None
    return whole[: -len(end)] + end


def _chains(text: str) -> list[list[re.Match[str]]]:
    """Digit tokens grouped into chains whose tokens are separated only by separators.

    Only the first `_MAX_TOKENS` tokens of a message take part: a person gives a few numbers,
    and a message made of hundreds of digit groups must not hold up the turn.
    """
    chains: list[list[re.Match[str]]] = []
    last_end = None
    for match in itertools.islice(_TOKEN.finditer(text), _MAX_TOKENS):
        if last_end is not None and _JOINER.fullmatch(text[last_end : match.start()]):
            chains[-1].append(match)
        else:
            chains.append([match])
        last_end = match.end()
    return chains


def _window_end(tokens: list[re.Match[str]], start: int) -> int:
    """The end of the longest run of tokens from `start` whose join is short enough to be a number.

    Trying only these keeps the work linear in the message (a join of more is never accepted, so
    the result is the same as trying every join, which took seconds on a run of ``1-1-1-…``).
    """
    end, length = start, 0
    while end < len(tokens) and length + len(tokens[end].group(0)) <= _MAX_JOIN_LENGTH:
        length += len(tokens[end].group(0))
        end += 1
    return end


def _take(kind: str, tokens: list[re.Match[str]], used: list[bool], accept) -> list[Found]:
    """Greedy left to right: the longest join of unused contiguous tokens that `accept` makes a value of."""
    found = []
    i = 0
    while i < len(tokens):
        for j in range(_window_end(tokens, i), i, -1):
            if any(used[i:j]):
                continue
            value = accept("".join(t.group(0) for t in tokens[i:j]))
            if value is not None:
                found.append(Found(kind, value, tokens[i].start(), tokens[j - 1].end()))
                used[i:j] = [True] * (j - i)
                i = j - 1
                break
        i += 1
    return found


@functools.lru_cache(maxsize=4096)
def _as_id(joined: str) -> str | None:
    if len(joined) != ID_LENGTH:
        return None
    try:
        return validate_id_number(joined)
    except InvalidIdNumber:
        return None


# A number about as long as an ID number (a digit missed or doubled, or a wrong check character).
_ID_LIKE = re.compile(r"(?<![\dA-Za-z])\d{15,19}(?:[Xx])?(?![\dA-Za-z])")


def id_number_attempt(text: str) -> str | None:
    """A number in the message meant as an ID number that is not a valid one ("…198808085015" with a
    wrong check character, a digit missed), so the person can be told it is wrong; None if there is
    none, or only valid ones."""
    said = _SPACE_BETWEEN_DIGITS.sub("", normalise_message(text))
    return next((m.group(0).upper() for m in _ID_LIKE.finditer(said) if _as_id(m.group(0).upper()) is None), None)


# The fewest digits a phone number is read from (without a leading +); masking for staff treats any
# unrecognised run of at least this many digits as a number someone could be found by.
MIN_PHONE_DIGITS = 7


@functools.lru_cache(maxsize=4096)
def _as_phone(joined: str) -> str | None:
    digits = joined.lstrip("+")
    if not digits.isdigit() or not MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        return None
    try:
        return parse_phone(joined)
    except InvalidPhoneNumber:
        return None


def extract_numbers(text: str) -> Numbers:
    """ID, phone and card numbers in a message, in the order given; spans refer to `Numbers.text`."""
    normalised = normalise_message(text)
    found: list[Found] = []
    for tokens in _chains(normalised):
        used = [False] * len(tokens)
        found += _take("id_number", tokens, used, _as_id)
        found += _take("phone_number", tokens, used, _as_phone)
    found += [
        Found("card_number", m.group(0).upper(), m.start(), m.end())
        for m in _CARD_NUMBER.finditer(normalised)
        if sum(ch.isdigit() for ch in m.group(0)) >= _MIN_CARD_DIGITS
        and not m.group(0).isdigit()
        and not any(f.start <= m.start() < f.end for f in found)
    ]
    return Numbers(text=normalised, found=sorted(found, key=lambda f: f.start))
