"""One conversational turn through Rasa, shared by the chat page and SMS: never silence.

When Rasa or an action fails the person gets an apology in their language and the conversation
is flagged ``action_error`` so staff see it.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.flags import flag_conversation
from bot.identity import CLIENT_METADATA_KEY
from bot.text import detect_language
from webhooks import messages
from webhooks.metrics import count_turn, loss_reports_created
from webhooks.rasa_client import RasaUnavailable
from webhooks.settings import WebSettings

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 500


class BadMessage(ValueError):
    """A message the web app refuses before it reaches Rasa; `str()` is the reply to show."""


def check_message(text: Any, language: str) -> str:
    """The message stripped, or BadMessage with a reply in the person's language."""
    if not isinstance(text, str) or not text.strip():
        raise BadMessage(messages.say(messages.EMPTY_MESSAGE, language))
    if len(text) > MAX_MESSAGE_LENGTH:
        raise BadMessage(messages.say(messages.TOO_LONG, language, limit=MAX_MESSAGE_LENGTH))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from a broken client
        raise BadMessage(messages.say(messages.EMPTY_MESSAGE, language)) from None
    return text.strip()


def client_token(web: WebSettings, address: str) -> str:
    """A keyed token of where messages come from (web client address, phone number): identity
    failures are counted per client with it, and the address itself goes no further."""
    return web.vault.keyed_token(address, purpose="client")


def take_turn(web: WebSettings, *, conversation_id: str, channel: str, text: str, client: str) -> list[str]:
    """The bot's text replies to `text`, or an apology when Rasa cannot answer."""
    language = detect_language(text) or "zh"
    try:
        replies = web.rasa.send(conversation_id, text, {"channel": channel, CLIENT_METADATA_KEY: client})
    except RasaUnavailable:
        flag_quietly(web, conversation_id=conversation_id, channel=channel, reason="action_error")
        return [messages.say(messages.UNAVAILABLE, language, hotline=web.core.service.hotline)]
    record_turn(web, conversation_id=conversation_id, channel=channel, replies=replies)
    return [m["text"] for m in replies if m.get("text")]


def record_turn(web: WebSettings, *, conversation_id: str, channel: str, replies: list[dict]) -> None:
    """Count an answered turn for /metrics and log it by id (what Rasa understood is counted from its store)."""
    created = loss_reports_created(replies)
    count_turn(channel=channel, loss_reports_created=created)
    outcome = "loss_report_created" if created else "answered"
    log.info("turn %s", outcome, extra={"conversation_id": conversation_id, "channel": channel, "outcome": outcome})


def flag_quietly(
    web: WebSettings,
    *,
    conversation_id: str,
    channel: str,
    reason: str,
    note: str | None = None,
    cardholder_id: int | None = None,
) -> None:
    """Flag a conversation for staff; best effort, since the database may be what failed."""
    try:
        with web.sessions.begin() as session:
            flag_conversation(
                session,
                conversation_id=conversation_id,
                channel=channel,
                reason=reason,
                note=note,
                cardholder_id=cardholder_id,
            )
    except SQLAlchemyError as error:
        log.warning("could not flag a conversation: %s", type(error).__name__)
