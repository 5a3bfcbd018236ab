"""Plumbing shared by the actions: settings and sessions made on first use, replies, formatting.

Database work runs on a worker thread (`in_transaction`), so the action server's event loop
never waits on the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.signed import CHANNEL_NAME, bureau_channel
from bot.config import Settings, load_settings
from bot.db import make_engine, make_session_factory
from bot.errors import CodeAttemptsExhausted, ConfigError, IdentityLocked, IdentityNotVerified, WrongCode
from bot.identity.privacy import Vault
from bot.language import text as bot_text
from bot.platform.logs import bind_request_id, clean_request_id, reset_request_id
from bot.review.flags import flag_conversation

log = logging.getLogger(__name__)
T = TypeVar("T")
Run = Callable[[Any, CollectingDispatcher, Tracker, DomainDict], Awaitable[list[dict]]]
Validate = Callable[[Any, Any, CollectingDispatcher, Tracker, DomainDict], Awaitable[dict[str, Any]]]

# Refusals that record something (identity attempts, flags): commit them, then re-raise.
_COMMIT_THEN_RAISE = (IdentityNotVerified, IdentityLocked, WrongCode, CodeAttemptsExhausted)
# Failures of the database or its configuration: the person hears an apology, never silence.
UNAVAILABLE = (SQLAlchemyError, ConfigError, OSError)


@dataclass(frozen=True)
class Services:
    settings: Settings
    sessions: sessionmaker[Session]


@lru_cache(maxsize=1)
def services() -> Services:
    """Settings and a session factory, created on the first action that needs them."""
    settings = load_settings()
    return Services(settings, make_session_factory(make_engine(settings.database_url), vault=Vault(settings)))


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


async def in_transaction(work: Callable[..., T], **kwargs: Any) -> T:
    """Run ``work(session, settings=..., **kwargs)`` in one transaction on a worker thread."""
    svc = services()

    def call() -> T:
        failure: BaseException | None = None
        with svc.sessions.begin() as session:
            try:
                return work(session, settings=svc.settings, **kwargs)
            except _COMMIT_THEN_RAISE as error:
                failure = error
        raise failure

    return await asyncio.to_thread(call)


def trusted_metadata(tracker: Tracker) -> dict[str, Any]:
    """The latest message's metadata when it came through the web app's signed channel, else nothing.

    Anyone who reaches another input channel could claim anything there (a phone call from the
    registered number, say); only the web app holds the key that signs messages on ours.
    """
    if tracker.get_latest_input_channel() != CHANNEL_NAME:
        return {}
    metadata = tracker.latest_message.get("metadata")
    return dict(metadata) if isinstance(metadata, dict) else {}


def typed_text(tracker: Tracker) -> str:
    """What the person actually sent; `latest_message["text"]` is the NLU-normalised form
    (simplified characters, digits for number words): 於丹 must not become 于丹 before it is
    compared, and a reply is read for its meaning as it was written."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return (event.get("text") or "").strip()
    return (tracker.latest_message.get("text") or "").strip()


def request_text(tracker: Tracker) -> str:
    """What the person sent when they asked for the task under way (the message that set the
    ``task`` slot), as written; the latest message if none did."""
    task_set = False
    for event in reversed(tracker.events):
        if event.get("event") == "slot" and event.get("name") == "task" and event.get("value"):
            task_set = True
        elif task_set and event.get("event") == "user":
            return (event.get("text") or "").strip()
    return typed_text(tracker)


def told_lately(tracker: Tracker, turns: int) -> Iterator[dict[str, Any]]:
    """The metadata of each bot message that answered one of the person's last `turns` messages
    before the latest (``utter_action`` names its response), newest first."""
    users = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users += 1
            if users > turns:
                return
        elif users and event.get("event") == "bot":
            yield event.get("metadata") or {}


def gives_id_number(tracker: Tracker) -> bool:
    """Whether the number extractor found an ID number in the latest message."""
    return any(e.get("entity") == "id_number" for e in tracker.latest_message.get("entities") or [])


def channel_of(tracker: Tracker) -> str:
    """``chat``, ``sms`` or ``voice`` as the web app said; plain ``chat`` for any other input channel."""
    return bureau_channel(tracker.get_latest_input_channel(), tracker.latest_message.get("metadata")) or "chat"


def language_of(tracker: Tracker) -> str:
    return "en" if tracker.get_slot("language") == "en" else "zh"


def service_values(tracker: Tracker) -> dict[str, Any]:
    """Values of this city's service that responses may mention."""
    info = services().settings.service
    return {
        "lock_minutes": services().settings.loss_policy.lock_notice_minutes,
        "hotline": info.hotline,
        "office_hours": info.office_hours_en if language_of(tracker) == "en" else info.office_hours_zh,
        "fee": info.replacement_fee_yuan,
    }


def format_date(moment: dt.datetime, language: str) -> str:
    """A date as people read it, in the city's time zone."""
    return bot_text.format_date(moment, language, services().settings.timezone)


async def flag_action_error(tracker: Tracker) -> None:
    """Best effort: the database may be what failed."""
    try:
        await in_transaction(
            lambda session, settings: flag_conversation(
                session, conversation_id=tracker.sender_id, channel=channel_of(tracker), reason="action_error"
            )
        )
    except UNAVAILABLE as error:
        log.warning("could not flag action error: %s", type(error).__name__)


async def apologise(dispatcher: CollectingDispatcher, tracker: Tracker, error: BaseException) -> None:
    """Tell the person the service is unavailable, log the failure's kind (never its text), flag it."""
    log.error("action failed: %s", type(error).__name__, extra={"conversation_id": tracker.sender_id})
    dispatcher.utter_message(response="utter_service_unavailable", **service_values(tracker))
    await flag_action_error(tracker)


def answers_only(validate: Validate) -> Validate:
    """A form's `validate_<slot>`, left out for a slot cleared earlier in the turn.

    Rasa hands a form's validation every slot set since the person's message, cleared ones too (a
    task's start clears its slots, a lapsed verification is forgotten). None there is no answer:
    nothing to check (a name "None" would cost an identity attempt) and nothing to complain of.
    """
    slot = validate.__name__.removeprefix("validate_")

    @functools.wraps(validate)
    async def wrapper(
        form: Any, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if slot_value is None:
            return {slot: None}
        return await validate(form, slot_value, dispatcher, tracker, domain)

    return wrapper


def traced(run: Run) -> Run:
    """Wraps an action's `run`: its log records carry the turn's request id, and one line says how it went.

    The web app puts the request id in the message metadata; Rasa hands it over in the tracker.
    """

    @functools.wraps(run)
    async def wrapper(
        action: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict]:
        metadata = tracker.latest_message.get("metadata") or {}
        token = bind_request_id(clean_request_id(metadata.get("request_id")))
        started = time.perf_counter()
        outcome = "failed"
        try:
            events = await run(action, dispatcher, tracker, domain)
            outcome = "done"
            return events
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            fields = {"action": action.name(), "conversation_id": tracker.sender_id, "duration_ms": duration_ms}
            log.info("action %s %s", action.name(), outcome, extra={**fields, "outcome": outcome})
            reset_request_id(token)

    wrapper.traced = True  # type: ignore[attr-defined]
    return wrapper


class DatabaseAction(Action, ABC):
    """An action that reads or writes the card database; a failure becomes a clear apology."""

    @traced
    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        try:
            return await self.act(dispatcher, tracker, domain)
        except UNAVAILABLE as error:
            await apologise(dispatcher, tracker, error)
            return self.after_failure(tracker)

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict]:
        """The action's work; database failures raised here are turned into an apology."""

    def after_failure(self, tracker: Tracker) -> list[dict]:
        """The events of a failed `act`: none, unless what the person asked leaves a state that must not stay."""
        return []
