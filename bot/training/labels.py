"""Turning misunderstood messages into training data.

A reviewer picks the right intent for a message (or out_of_scope); the label keeps the message
only in scrubbed form, with personal data already replaced by fictitious values, so neither the
label table nor the exported YAML ever holds a citizen's ID number, phone or name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.language.redaction import scrub_text
from bot.models import INTENTS, Flag, NluLabel, utcnow
from bot.review.audit import record_audit
from bot.review.queue import Reviewer, ReviewError
from bot.review.transcripts import Transcript
from bot.training.nlu_merge import LabelledExample


def label_message(
    session: Session,
    *,
    flag: Flag,
    transcript: Transcript,
    message_id: str,
    intent: str,
    known_names: set[str],
    by: Reviewer,
) -> NluLabel:
    """Record the right intent for one of the conversation's messages; relabelling replaces the label."""
    if intent not in INTENTS:
        raise ReviewError(f"unknown intent {intent!r}", "unknown_intent")
    line = next((x for x in transcript.lines if x.kind == "user" and x.message_id == message_id), None)
    if line is None:
        raise ReviewError("that message is not part of this conversation", "not_in_conversation")
    # Square brackets would read as Rasa entity markup ([text](entity)); the NLU reads the
    # full-width ones the same, since it folds full-width forms first.
    scrubbed = scrub_text(line.text, transcript.names | known_names).replace("[", "［").replace("]", "］")
    text = " ".join(scrubbed.split())
    if not text:
        raise ReviewError("the message is empty", "note_empty")
    label = session.scalars(
        select(NluLabel).where(NluLabel.conversation_id == flag.conversation_id, NluLabel.message_id == message_id)
    ).first()
    if label is None:
        label = NluLabel(conversation_id=flag.conversation_id, message_id=message_id)
        session.add(label)
    label.flag_id, label.text, label.predicted_intent, label.intent = flag.id, text, line.intent, intent
    label.labelled_by, label.created_at = by.id, utcnow()
    session.flush()
    record_audit(
        session, actor=by.actor, action="nlu_labelled", target_type="flag", target_id=flag.id,
        detail={"label_id": label.id, "intent": intent, "predicted": line.intent},
    )  # fmt: skip
    return label


def labels_by_message(session: Session, conversation_id: str) -> dict[str, str]:
    rows = session.execute(
        select(NluLabel.message_id, NluLabel.intent).where(NluLabel.conversation_id == conversation_id)
    )
    return dict(rows.all())


def labelled_examples(session: Session, *, since: dt.datetime | None = None) -> list[LabelledExample]:
    """Every label (made on or after `since`), by intent then in the order they were made."""
    query = select(NluLabel.id, NluLabel.intent, NluLabel.text).order_by(NluLabel.intent, NluLabel.id)
    if since is not None:
        query = query.where(NluLabel.created_at >= since)
    return [LabelledExample(label_id, intent, text) for label_id, intent, text in session.execute(query)]


def export_nlu_yaml(session: Session, *, since: dt.datetime | None = None) -> tuple[str, int]:
    """Rasa NLU training data (YAML) from the labels, grouped by intent; and the number of examples."""
    examples: dict[str, list[str]] = defaultdict(list)
    for label in labelled_examples(session, since=since):
        if label.text not in examples[label.intent]:
            examples[label.intent].append(label.text)
    lines = ['version: "3.1"', "", "# Messages the assistant misunderstood, labelled by reviewers.", "nlu:"]
    for intent in INTENTS:
        if examples.get(intent):
            lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {text}" for text in examples[intent]]
    if len(lines) == 4:
        lines[-1] = "nlu: []"
    return "\n".join(lines) + "\n", sum(len(v) for v in examples.values())
