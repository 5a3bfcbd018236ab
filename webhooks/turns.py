"""One conversational turn through Rasa, shared by the chat page and SMS: never silence.

When Rasa or an action fails the person gets an apology in their language and the conversation
is flagged ``action_error`` so staff see it. SMS takes the replies' text only; the chat page also
shows the choices a reply offers as buttons (its text names them too, so SMS reads the same).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Button:
    """A choice offered with a reply: what it says, and what pressing it sends (e.g. "/affirm")."""

    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """One message of the assistant: its text, the language it is written in, the choices it offers."""

    text: str
    language: str
    buttons: tuple[Button, ...] = ()


def _buttons(message: dict[str, Any]) -> tuple[Button, ...]:
    raw = message.get("buttons")
    offered = raw if isinstance(raw, list) else []
    return tuple(
        Button(b["title"], b["payload"])
        for b in offered
        if isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
    )


def answer(web: WebSettings, *, conversation_id: str, channel: str, text: str, client: str) -> list[Reply]:
    """The bot's replies to `text`, or an apology when Rasa cannot answer.

    Each reply's language is read from its own words: Rasa answers in the conversation's language,
    which a button press ("/affirm") or a bare ID number does not show.
    """
    language = detect_language(text)
    try:
        replies = web.rasa.send(conversation_id, text, {"channel": channel, CLIENT_METADATA_KEY: client})
    except RasaUnavailable:
        flag_quietly(web, conversation_id=conversation_id, channel=channel, reason="action_error")
        hotline = web.core.service.hotline
        if language:
            return [Reply(messages.say(messages.UNAVAILABLE, language, hotline=hotline), language)]
        return [Reply(messages.say_both(messages.UNAVAILABLE, hotline=hotline), "zh")]
    record_turn(web, conversation_id=conversation_id, channel=channel, replies=replies)
    return [
        Reply(m["text"], detect_language(m["text"]) or language or "zh", _buttons(m))
        for m in replies
        if isinstance(m.get("text"), str) and m["text"]
    ]


def take_turn(web: WebSettings, *, conversation_id: str, channel: str, text: str, client: str) -> list[str]:
    """The text of the bot's replies to `text` (SMS: the text names any choices the chat shows as buttons)."""
    return [r.text for r in answer(web, conversation_id=conversation_id, channel=channel, text=text, client=client)]


def record_turn(web: WebSettings, *, conversation_id: str, channel: str, replies: list[dict]) -> None:
    """Count an answered turn for /metrics and log it by id (what Rasa understood is counted from its store)."""
    created = loss_reports_created(replies)
    count_turn(channel=channel, loss_reports_created=created)
    outcome = "loss_report_created" if created else "answered"
    log.info("turn %s", outcome, extra={"conversation_id": conversation_id, "channel": channel, "outcome": outcome})


def flag_quietly(web: WebSettings, *, conversation_id: str, channel: str, reason: str, note: str | None = None) -> None:
    """Flag a conversation for staff; best effort, since the database may be what failed."""
    try:
        with web.sessions.begin() as session:
            flag_conversation(session, conversation_id=conversation_id, channel=channel, reason=reason, note=note)
    except SQLAlchemyError as error:
        log.warning("could not flag a conversation: %s", type(error).__name__)
