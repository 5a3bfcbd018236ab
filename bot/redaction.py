"""Finding personal data in conversation text, to mask it for display or replace it for training.

Staff see transcripts masked by default; an example exported for training carries plausible
fictitious values instead, so the NLU still learns what an ID number or a phone looks like in
a sentence. Numbers are found with the same rules the assistant uses to read them
(`bot.extraction`), so a spoken or spaced-out ID number is caught too; names are the ones the
conversation itself gave or the linked cardholder's. Any other run of four or more digits
(a card number, the last four digits of a phone) is treated as personal as well.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.extraction import extract_numbers
from bot.idnumbers import with_check_character
from bot.privacy import mask_id_number, mask_name, mask_phone

_DIGIT_RUN = re.compile(r"\d{4,}")
_FICTITIOUS_NAMES_ZH = ("李明", "王小红", "陈建国", "刘芳芳", "张志强", "赵丽")
_FICTITIOUS_NAMES_EN = ("Alex Chen", "Sam Lee", "Jordan Wu", "Taylor Lin")


@dataclass(frozen=True)
class Span:
    """A piece of personal data: its kind, its value, and where it sits in the text."""

    kind: str
    value: str
    start: int
    end: int


def personal_spans(text: str, names: Iterable[str] = ()) -> tuple[str, list[Span]]:
    """The text the spans refer to, and the spans of personal data in it, in order.

    When the text holds numbers the spans refer to its normalised form (full-width and spoken
    digits made ASCII), which is what is then shown; otherwise to the text as given.
    """
    numbers = extract_numbers(text)
    base = numbers.text if numbers.found else text
    spans = [Span(f.kind, f.value, f.start, f.end) for f in numbers.found]
    spans += [
        Span("digits", m.group(0), m.start(), m.end())
        for m in _DIGIT_RUN.finditer(base)
        if not _overlaps(spans, m.start(), m.end())
    ]
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        for m in re.finditer(re.escape(name), base, flags=re.IGNORECASE):
            if not _overlaps(spans, m.start(), m.end()):
                spans.append(Span("name", m.group(0), m.start(), m.end()))
    return base, sorted(spans, key=lambda s: s.start)


def _overlaps(spans: list[Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _replace(text: str, names: Iterable[str], replacement: Callable[[Span], str]) -> str:
    base, spans = personal_spans(text, names)
    out, position = [], 0
    for span in spans:
        out += [base[position : span.start], replacement(span)]
        position = span.end
    return "".join(out) + base[position:]


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """The text with ID numbers, phones, card numbers, digit runs and the given names masked."""
    return _replace(text, names, _mask)


def _mask(span: Span) -> str:
    if span.kind == "id_number":
        return mask_id_number(span.value)
    if span.kind == "phone_number":
        return mask_phone(span.value)
    if span.kind == "name":
        return mask_name(span.value)
    return span.value[0] + "*" * (len(span.value) - 1) if span.kind == "card_number" else "*" * len(span.value)


def scrub_text(text: str, names: Iterable[str] = (), *, rng: random.Random | None = None) -> str:
    """The text with every piece of personal data replaced by a plausible fictitious one."""
    rng = rng or random.Random()
    return _replace(text, names, lambda span: _fictitious(span, rng))


def _fictitious(span: Span, rng: random.Random) -> str:
    if span.kind == "id_number":
        birth = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
        return with_check_character(f"110101{birth}{rng.randint(100, 999)}")
    if span.kind == "phone_number":
        return f"1390000{rng.randint(0, 9999):04d}"
    if span.kind == "card_number":
        return "A" + "".join(rng.choice("0123456789") for _ in range(8))
    if span.kind == "name":
        latin = span.value.isascii()
        return rng.choice(_FICTITIOUS_NAMES_EN if latin else _FICTITIOUS_NAMES_ZH)
    return "".join(rng.choice("0123456789") for _ in span.value)
