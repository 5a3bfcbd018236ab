"""Finding personal data in conversation text, to mask it for display or replace it for training.

Staff see transcripts masked by default; an example exported for training carries plausible
fictitious values instead, so the NLU still learns what an ID number or a phone looks like in
a sentence. Numbers are read with the assistant's own rules (`bot.language.extraction`: full-width,
spoken and English digit words, spaced or grouped), so an ID number is caught however it was
given. Only what looks like a personal number counts: an ID, phone or card number as the
extractor reads them, a loss reference, any other run of at least `MIN_PHONE_DIGITS` digits
(a mistyped ID number is still somebody's), and the few digits people give as a secret (the
phone's last four after 尾号 / "last four", a one-time code, or a short number sent on its
own: an answer to the last-four or code question). Hotlines, times, dates, fees and counts
stay as written, and so does everything around what is masked (full-width punctuation
included). Names are the ones the conversation gave or the linked cardholder's, matched
across spacing, case, full-width and traditional forms.
"""

from __future__ import annotations

import difflib
import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from bot.cards.loss_reports import is_reference, luhn_check_digit
from bot.identity.idnumbers import with_check_character
from bot.identity.privacy import mask_card_number, mask_id_number, mask_name, mask_phone, mask_reference
from bot.language.extraction import MIN_PHONE_DIGITS, extract_numbers
from bot.language.spoken import NUMERAL_WORDS, SEPARATOR_CHARS
from bot.language.text import to_simplified

# Digits (or Chinese numerals too few in a row to be read as a number) joined by any run of the
# separators the assistant reads numbers across: masking hides at least what it would accept.
_DIGIT = f"[\\d{NUMERAL_WORDS}]"
_DIGIT_CHAIN = re.compile(f"{_DIGIT}(?:[{SEPARATOR_CHARS}]*{_DIGIT})*")
_MIN_DIGITS = 4
# A date written with separators (2026-12-07, 2026/12/7) is a run of digits, not anybody's number.
_DATE = re.compile(r"(?:19|20)\d\d([-/.])\d{1,2}\1\d{1,2}")
# Words before the few digits that prove who someone is: the registered phone's last four, a code.
_TAIL_WORDS = re.compile(
    r"(?:尾号|尾数|后\s*[四4]\s*位|验证码|last\s+(?:four|4)(?:\s+digits)?|ending\s+(?:in|with)|code)"
    r"\W{0,3}(?:是|为|is|are)?\W{0,3}$",
    re.IGNORECASE,
)
# A message that is nothing but a short number (besides punctuation) answers the last-four or code question.
_ONLY_PUNCTUATION = re.compile(r"[\W_]*")
# What people or recognisers put between the characters of a name.
_NAME_GAP = r"[\s\u200b-\u200d\u00b7\u2022\u30fb.·]*"
_FICTITIOUS_NAMES_ZH = ("李明", "王小红", "陈建国", "刘芳芳", "张志强", "赵丽")
_FICTITIOUS_NAMES_EN = ("Alex Chen", "Sam Lee", "Jordan Wu", "Taylor Lin")


@dataclass(frozen=True)
class Span:
    """A piece of personal data: its kind, its value, and where it sits in the text."""

    kind: str  # id_number, phone_number, card_number, reference, digits or name
    value: str
    start: int
    end: int


def personal_spans(text: str, names: Iterable[str] = ()) -> tuple[str, list[Span]]:
    """The text the spans refer to, and the spans of personal data in it, in order.

    When the text holds digits in any form, the spans refer to its normalised form (full-width
    and spoken digits made ASCII); otherwise to the text as given. Masking and scrubbing map
    them back onto the text as written.
    """
    numbers = extract_numbers(text)
    chains = [c for c in _DIGIT_CHAIN.finditer(numbers.text) if len(re.findall(_DIGIT, c.group(0))) >= _MIN_DIGITS]
    base = numbers.text if chains or re.search(r"\d", numbers.text) else text
    found = [Span(f.kind, f.value, f.start, f.end) for f in numbers.found]  # only ever with digits
    spans: list[Span] = []
    for chain in chains:
        inside = [f for f in found if f.start < chain.end() and chain.start() < f.end]
        digits = "".join(re.findall(r"\d", chain.group(0)))
        if is_reference(digits) and "+" not in chain.group(0):  # a loss reference, even where it could be a phone
            found = [f for f in found if f not in inside]
            spans.append(Span("reference", digits, chain.start(), chain.end()))
        elif _digits_outside(base, chain.start(), chain.end(), inside) and _looks_personal(base, chain):
            # More digits than the numbers recognised in them (e.g. an ID read out with commas
            # that happens to contain a valid phone): mask the whole chain, not just a part.
            spans.append(Span("digits", chain.group(0), chain.start(), chain.end()))
        else:
            spans += [f for f in inside if f not in spans]
    spans += [f for f in found if not _overlaps(spans, f.start, f.end)]  # card numbers
    for span in _name_spans(base, names):
        if not _overlaps(spans, span.start, span.end):
            spans.append(span)
    return base, sorted(spans, key=lambda s: s.start)


def _looks_personal(text: str, chain: re.Match[str]) -> bool:
    """Whether an unrecognised run of digits could still be somebody's number (see the module doc)."""
    count = len(re.findall(_DIGIT, chain.group(0)))
    if count >= MIN_PHONE_DIGITS:
        return not _DATE.fullmatch(chain.group(0))
    alone = _ONLY_PUNCTUATION.fullmatch(text[: chain.start()] + text[chain.end() :])
    return count <= 6 and bool(alone or _TAIL_WORDS.search(text[: chain.start()]))


def _digits_outside(text: str, start: int, end: int, found: list[Span]) -> bool:
    return any(
        re.fullmatch(_DIGIT, ch) and not any(f.start <= i < f.end for f in found)
        for i, ch in enumerate(text[start:end], start)
    )


def _fold(text: str) -> str:
    """Full-width to ASCII, traditional to simplified, lower case: for matching names only."""
    return to_simplified(unicodedata.normalize("NFKC", text)).casefold()


def _name_patterns(name: str) -> list[re.Pattern[str]]:
    folded = _fold(name)
    if folded.isascii():
        parts = [p for p in re.split(r"[\s.\-·]+", folded) if len(p) >= 2]
        whole = _NAME_GAP.join(map(re.escape, "".join(parts)))
        words = [rf"(?<![a-z]){re.escape(p)}(?![a-z])" for p in parts]
        return [re.compile(p) for p in ([whole] if whole else []) + words]
    chars = [ch for ch in folded if not re.fullmatch(_NAME_GAP, ch)]
    patterns = [_NAME_GAP.join(map(re.escape, chars))] if len(chars) >= 2 else []
    if len(chars) >= 3:  # the given name alone ("叫小伟"); a lone surname is too common to mask
        patterns.append(_NAME_GAP.join(map(re.escape, chars[1:])))
    return [re.compile(p) for p in patterns]


def _folded(text: str) -> tuple[str, list[int]]:
    """`_fold(text)`, and for each of its characters the index in `text` it came from.

    Folding keeps the length but for a few characters (ß, ligatures); then it goes one character
    at a time, so a name found in the folded text still maps back onto the text as given.
    """
    whole = _fold(text)
    if len(whole) == len(text):
        return whole, list(range(len(text)))
    parts = [_fold(ch) for ch in text]
    return "".join(parts), [i for i, part in enumerate(parts) for _ in part]


def _name_spans(base: str, names: Iterable[str]) -> list[Span]:
    haystack, origin = _folded(base)
    spans: list[Span] = []
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        for pattern in _name_patterns(name):
            for m in pattern.finditer(haystack):
                if m.end() == m.start():
                    continue
                start, end = origin[m.start()], origin[m.end() - 1] + 1
                if not _overlaps(spans, start, end):
                    spans.append(Span("name", base[start:end], start, end))
    return spans


def _overlaps(spans: list[Span], start: int, end: int) -> bool:
    return any(s.start < end and start < s.end for s in spans)


def _replace(text: str, names: Iterable[str], replacement: Callable[[Span], str]) -> str:
    """The text as written, each span replaced; the spans refer to the normalised form."""
    base, spans = personal_spans(text, names)
    out: list[str] = []
    done: set[Span] = set()
    for written, base_start, base_end in _aligned(text, base):
        touching = [s for s in spans if s.start < base_end and base_start < s.end]
        if not touching:
            out.append(base[base_start:base_end] if written is None else written)
            continue
        position = base_start
        for span in touching:
            out.append(base[position : max(position, span.start)])
            if span not in done:
                out.append(replacement(span))
                done.add(span)
            position = max(position, span.end)
        out.append(base[position:base_end])
    return "".join(out)


def _aligned(text: str, base: str) -> Iterator[tuple[str | None, int, int]]:
    """The normalised text `base` in pieces, in order, each with how `text` wrote it when that is
    the same character up to width (full-width punctuation, say); None where normalising changed
    it (spoken digits), and then the normalised form is what is shown. Nothing is trusted that the
    alignment cannot vouch for, so no digit can come back from the text as written into a span.
    """
    if text == base:
        yield from ((ch, i, i + 1) for i, ch in enumerate(text))
        return
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, text, base, autojunk=False).get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for k in range(i2 - i1):
                written = text[i1 + k]
                yield (written if unicodedata.normalize("NFKC", written) == base[j1 + k] else None), j1 + k, j1 + k + 1
        else:
            yield None, j1, j2


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
    if span.kind == "card_number":
        return mask_card_number(span.value)
    if span.kind == "reference":
        return mask_reference(span.value)
    return re.sub(_DIGIT, "*", span.value)


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
    if span.kind == "reference":
        body = str(rng.randint(10**8, 10**9 - 1))
        return body + luhn_check_digit(body)
    if span.kind == "name":
        return rng.choice(_FICTITIOUS_NAMES_EN if _fold(span.value).isascii() else _FICTITIOUS_NAMES_ZH)
    return re.sub(_DIGIT, lambda _m: rng.choice("0123456789"), span.value)
