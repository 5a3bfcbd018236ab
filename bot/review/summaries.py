"""A line per queue row so a reviewer can triage without opening it: intent, outcome, language, channel.

The intent is the first request the person made (greetings, yes/no and numbers are not requests);
the outcome is the weightiest thing that happened in the conversation, from its flags and any
voicemail; the language is the conversation's, from Rasa's `language` slot (Mandarin unless it
changed). Codes only: the console words them (webhooks/staff/labels.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.contract import FALLBACK_INTENT
from bot.models import Flag, Voicemail
from bot.review.transcripts import ConversationFacts

# Intents that say what the person came for; the others answer the assistant or are small talk.
REQUEST_INTENTS = (
    "report_loss", "cancel_loss", "check_progress", "replace_card", "cross_region", "apply_card",
    "activate_card", "update_info", "request_human", "out_of_scope", "bot_challenge",
)  # fmt: skip
# What can happen in a conversation (flag reasons and a voicemail), weightiest first.
OUTCOMES = (
    "loss_reported", "loss_cancelled", "voicemail", "identity_failed", "call_dropped", "human_requested",
    "nlu_fallback", "action_error", "sms_failed",
)  # fmt: skip


@dataclass(frozen=True)
class Summary:
    intent: str | None  # an intent name, or None when the conversation holds no request
    outcome: str  # one of OUTCOMES
    language: str  # "zh" or "en"
    channel: str


def main_intent(intents: tuple[str, ...]) -> str | None:
    """The first request; failing that, a miss (the person asked something not understood)."""
    for intent in intents:
        if intent in REQUEST_INTENTS:
            return intent
    return FALLBACK_INTENT if FALLBACK_INTENT in intents else None


def summarise(session: Session, flags: list[Flag], facts: dict[str, ConversationFacts]) -> dict[int, Summary]:
    """A summary for each flag, by flag id; `facts` may be empty (the tracker store unreadable)."""
    conversations = {flag.conversation_id for flag in flags}
    if not conversations:
        return {}
    happened: dict[str, set[str]] = {}
    for conversation, reason in session.execute(
        select(Flag.conversation_id, Flag.reason).where(Flag.conversation_id.in_(conversations))
    ):
        happened.setdefault(conversation, set()).add(reason)
    for (conversation,) in session.execute(
        select(Flag.conversation_id)
        .join(Voicemail, Voicemail.flag_id == Flag.id)
        .where(Flag.conversation_id.in_(conversations))
    ):
        happened.setdefault(conversation, set()).add("voicemail")
    summaries = {}
    for flag in flags:
        known = facts.get(flag.conversation_id, ConversationFacts())
        events = happened.get(flag.conversation_id, set())
        outcome = next((o for o in OUTCOMES if o in events), flag.reason)
        language = "en" if known.language == "en" else "zh"
        summaries[flag.id] = Summary(main_intent(known.intents), outcome, language, flag.channel)
    return summaries
