"""Merging reviewers' labelled messages into the training data, one file per intent.

Labels hold text with personal data already replaced (bot/training/labels.py). A label is refused
when it is the same as, or nearly the same as, a held-out test message (training on test phrasings
would make the held-out scores lie), when reviewers gave the same message two intents, or when the
training data already has it under another intent; one already in the training data under the same
intent is skipped. Accepted examples go to the end of `data/nlu/<intent>.yml`, in a marked block, so
the next `model deploy` trains on them and keeps them only if the held-out scores hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import yaml

from bot.config import ROOT
from bot.errors import BotError
from bot.language.text import normalise_for_understanding
from bot.models import INTENTS

DATA_DIR = ROOT / "data" / "nlu"
HELDOUT_DIR = ROOT / "tests" / "nlu_heldout"
# Two messages this alike (difflib ratio of their normalised forms) count as one phrasing.
NEAR_DUPLICATE_RATIO = 0.85
REVIEWED_MARKER = "# Reviewed: misunderstood messages labelled in the staff console (`python -m bot review merge-nlu`)."

_NOT_WORD = re.compile(r"[^\w]|_")
_DIGITS = re.compile(r"\d+")


class MergeError(BotError):
    """The training data or held-out sets cannot be read or written as expected."""


@dataclass(frozen=True)
class LabelledExample:
    label_id: int
    intent: str
    text: str


@dataclass(frozen=True)
class Refusal:
    label_id: int
    intent: str
    reason: str  # held_out, conflicting_labels, in_training_as_<intent>, empty


@dataclass
class MergeResult:
    added: dict[str, list[str]] = field(default_factory=dict)
    skipped: int = 0  # already in the training data under the same intent
    refused: list[Refusal] = field(default_factory=list)

    @property
    def added_count(self) -> int:
        return sum(len(texts) for texts in self.added.values())


def comparable(text: str) -> str:
    """The form two phrasings are compared in: normalised, lower-case, numbers alike, no punctuation or spaces.

    Numbers are folded to one digit because scrubbing put fictitious ones in place of real ones.
    """
    folded = _DIGITS.sub("0", normalise_for_understanding(text).casefold())
    return _NOT_WORD.sub("", folded)


def near_duplicate(a: str, b: str, ratio: float = NEAR_DUPLICATE_RATIO) -> bool:
    """True when two comparable forms are the same phrasing (equal, or alike by `ratio`)."""
    if a == b:
        return True
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.real_quick_ratio() >= ratio and matcher.quick_ratio() >= ratio and matcher.ratio() >= ratio


def _examples(block: str) -> list[str]:
    return [line.strip()[2:].strip() for line in block.splitlines() if line.strip().startswith("- ")]


def parse_intent_examples(text: str) -> list[tuple[str, str]]:
    """(intent, text) of every example in Rasa NLU YAML (`examples: |` blocks)."""
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError:
        raise MergeError("training data that is not valid YAML") from None
    items = data.get("nlu") or [] if isinstance(data, dict) else []
    return [
        (item["intent"], example)
        for item in items
        if isinstance(item, dict) and "intent" in item
        for example in _examples(item.get("examples") or "")
    ]


def read_intent_examples(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(intent, text) of every example in the files."""
    found = []
    for path in paths:
        try:
            found += parse_intent_examples(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise MergeError(f"cannot read {path.name}: {error.strerror}") from None
    return found


def heldout_forms(heldout_dir: Path = HELDOUT_DIR) -> list[str]:
    """The comparable form of every held-out message: the NLU sets and the entity cases alike."""
    texts = []
    for path in sorted(heldout_dir.glob("*.yml")):
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        if isinstance(data, list):  # entity cases: a list of {text, intent, ...}
            texts += [case["text"] for case in data if isinstance(case, dict) and "text" in case]
        else:
            texts += [example for _, example in parse_intent_examples(text)]
    return [comparable(text) for text in texts]


def plan_merge(
    labels: Iterable[LabelledExample], *, training: Iterable[tuple[str, str]], heldout: list[str]
) -> MergeResult:
    """What to add to which intent, and what to refuse and why; reads and writes nothing."""
    in_training: dict[str, str] = {comparable(text): intent for intent, text in training}
    labels = list(labels)
    intents_of: dict[str, set[str]] = {}
    for label in labels:
        intents_of.setdefault(comparable(label.text), set()).add(label.intent)
    result, seen = MergeResult(), set()
    for label in labels:
        form = comparable(label.text)
        if not form:
            reason = "empty"
        elif len(intents_of[form]) > 1:
            reason = "conflicting_labels"
        elif form in in_training and in_training[form] != label.intent:
            reason = f"in_training_as_{in_training[form]}"
        elif any(near_duplicate(form, other) for other in heldout):
            reason = "held_out"
        else:
            reason = ""
        if reason:
            result.refused.append(Refusal(label.label_id, label.intent, reason))
        elif form in in_training or form in seen:
            result.skipped += 1
        else:
            seen.add(form)
            result.added.setdefault(label.intent, []).append(label.text)
    return result


def appended(text: str, intent: str, examples: list[str]) -> str:
    """An intent file's text with `examples` added to its reviewed block (started at the end if absent)."""
    lines = [f"    - {example}" for example in examples]
    if REVIEWED_MARKER not in text:  # the block stays the file's last, so later merges extend it
        lines = ["", REVIEWED_MARKER, f"- intent: {intent}", "  examples: |", *lines]
    return text.rstrip("\n") + "\n" + "\n".join(lines) + "\n"


def write_merge(added: Mapping[str, list[str]], data_dir: Path = DATA_DIR) -> list[Path]:
    """Add the examples to `data_dir/<intent>.yml`, every file or none; the files written."""
    staged: list[tuple[Path, Path]] = []
    try:
        for intent, examples in sorted(added.items()):
            if intent not in INTENTS:
                raise MergeError(f"unknown intent {intent!r}")
            target = data_dir / f"{intent}.yml"
            current = target.read_text(encoding="utf-8") if target.exists() else 'version: "3.1"\nnlu:\n'
            text = appended(current, intent, examples)
            merged = {t for i, t in parse_intent_examples(text) if i == intent}
            if not set(examples) <= merged:
                raise MergeError(f"{intent}: an example would not read back as written")
            partial = target.with_name(target.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            staged.append((partial, target))
    except (OSError, MergeError) as error:
        for partial, _ in staged:
            partial.unlink(missing_ok=True)
        if isinstance(error, MergeError):
            raise
        raise MergeError(f"cannot write the training data: {error.strerror}") from None
    for partial, target in staged:
        partial.replace(target)
    return [target for _, target in staged]


def merge_labels(
    labels: Iterable[LabelledExample], *, data_dir: Path = DATA_DIR, heldout_dir: Path = HELDOUT_DIR
) -> MergeResult:
    """Plan the merge against the training data and held-out sets, then write what it accepts."""
    training = read_intent_examples(sorted(data_dir.glob("*.yml")))
    result = plan_merge(labels, training=training, heldout=heldout_forms(heldout_dir))
    write_merge(result.added, data_dir)
    return result
