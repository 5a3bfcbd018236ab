"""Turn numbers as people type or say them into plain ASCII digits.

Handles full-width characters, separators (spaces, dashes, dots), Chinese numerals read digit by
digit or with units (via `cn2an`), and the spoken forms cn2an does not know: 两 (2), 洞 (0),
拐 (7), 勾 (9), and 叉 / 艾克斯 for the letter X that ends some ID numbers.
"""

from __future__ import annotations

import re
import unicodedata

import cn2an

_SPOKEN_FORMS = str.maketrans({"幺": "一", "两": "二", "洞": "零", "拐": "七", "勾": "九", "〇": "零"})
_DIGIT_WORDS = "零一二三四五六七八九幺两洞拐勾〇"
_UNIT_WORDS = "十百千万"
# Every character that stands for (part of) a number in Chinese.
NUMERAL_WORDS = _DIGIT_WORDS + _UNIT_WORDS
_X_WORDS = r"(?:艾克斯|爱克斯|叉)"
# What people and recognisers put between the digits of one number. The one definition: number
# extraction joins digit groups across these, and masking for staff hides digits across them.
SEPARATOR_CHARS = r"\s\-‐‑‒–—―_.·•/()。，、,"
_SEPARATORS = re.compile(f"[{SEPARATOR_CHARS}]+")
_NUMERAL_RUN = re.compile(rf"[{_DIGIT_WORDS}{_UNIT_WORDS}0-9](?:[\s\-]*[{_DIGIT_WORDS}{_UNIT_WORDS}0-9])*")
# Fewer number words than this in a run is ordinary language (一下, 第一次, 两张; "one or two"),
# not a number, in either language.
MIN_NUMBER_WORDS = 3


def to_halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def _numerals_to_digits(run: str) -> str:
    """One run of numerals without separators: 一三九 -> 139, 一百二十 -> 120, 13九 -> 139."""
    run = run.translate(_SPOKEN_FORMS)
    if any(ch in _UNIT_WORDS for ch in run):
        try:
            return str(cn2an.cn2an(run, "smart"))
        except (ValueError, KeyError, IndexError):  # cn2an rejects some mixes, e.g. 二十11
            return run
    return "".join(str("零一二三四五六七八九".find(ch)) if ch in "零一二三四五六七八九" else ch for ch in run)


def normalise_number(text: str) -> str:
    """Normalise text that is meant to be one number (an ID, phone or card number).

    Separators are dropped, numerals become digits, X words become ``X`` and letters are
    upper-cased; a leading ``+`` survives for international phone prefixes. The result is not
    validated here: callers check it against the rules for the number they expect.
    """
    value = to_halfwidth(text).strip()
    value = re.sub(_X_WORDS, "X", value)
    value = _SEPARATORS.sub("", value)
    plus = "+" if value.startswith("+") else ""
    return to_halfwidth(plus + _numerals_to_digits(value.lstrip("+")).upper())


def normalise_numbers_in_text(text: str) -> str:
    """Rewrite spoken or full-width numbers inside running text as ASCII digits.

    Other words stay as they are, so this can run on a whole message before entity extraction:
    ``我身份证三二零一…一二三叉`` becomes ``我身份证3201…123X`` while ``问一下`` is untouched.
    """

    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        words = sum(not ch.isascii() for ch in run)
        if words == 0 or (words == len(run.replace(" ", "")) and words < MIN_NUMBER_WORDS):
            return run
        return _numerals_to_digits(_SEPARATORS.sub("", run))

    text = _NUMERAL_RUN.sub(convert, to_halfwidth(text))
    return re.sub(rf"(?<=\d)\s*{_X_WORDS}", "X", text)
