"""Reading conversations back from Rasa's SQL tracker store, for the staff console.

Rasa keeps every event of a conversation as a row of its `events` table (one JSON document per
row, encrypted by rasa_addons/tracker_store.py, with the event type, intent and action names in
clear columns of their own). Reading that table directly works whether or not Rasa is running,
and turns the daily fallback rate into one grouped query instead of a walk over every
conversation. `purge_conversations` is the retention job's half that deletes old sessions, and
`encrypt_clear_events` seals rows an older deployment wrote in clear.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.contract import FALLBACK_INTENT, PREFIX_LENGTH, channel_of_conversation
from bot.errors import ConfigError
from bot.identity.answers import name_from_answer
from bot.identity.privacy import EventCipher

log = logging.getLogger(__name__)
SESSION_STARTED = "session_started"  # the event (and type_name) that begins each Rasa session
SESSION_START_ACTION = "action_session_start"
# Rasa's own fallback when no rule or story fits (an NLU miss is counted by its intent instead).
CORE_FALLBACK_ACTION = "action_default_fallback"
OTHER_CHANNEL = "other"  # e.g. `make chat` (terminal-…) or a test conversation
# Events this much older than now are settled: a concurrent writer's earlier id has committed.
SETTLE_SECONDS = 10
_BUCKET_SECONDS = 900

# The columns of Rasa 3.6's SQLTrackerStore table that are read here (Rasa creates the table).
_events = Table(
    "events",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


@dataclass
class MessageCounts:
    """Running totals of people's messages in the tracker store, kept up to date by `count_messages`."""

    last_id: int = 0
    messages: dict[tuple[str, str], int] = field(default_factory=dict)  # (channel, intent) -> count
    fallbacks: dict[str, int] = field(default_factory=dict)  # channel -> count


class TrackerStoreUnavailable(Exception):
    """The tracker store cannot be read (not created yet, unreachable, or not Rasa's schema)."""


@dataclass(frozen=True)
class Line:
    """One line of a transcript: what the person said, what the assistant said, or an action it ran."""

    kind: str  # "user", "bot" or "action"
    time: dt.datetime
    text: str = ""
    intent: str | None = None
    confidence: float | None = None
    message_id: str | None = None

    @property
    def misunderstood(self) -> bool:
        return self.intent == FALLBACK_INTENT


@dataclass(frozen=True)
class Transcript:
    lines: list[Line]
    names: set[str]  # what the person gave when asked for their name, to mask wherever it appears


@dataclass(frozen=True)
class ConversationFacts:
    """What a queue row says about its conversation: what people asked, in order, and in which language."""

    intents: tuple[str, ...] = ()
    language: str | None = None  # the `language` slot's last value; None when it never changed


# Rasa's internal actions are bookkeeping; the transcript shows the ones that did something.
_QUIET_ACTIONS = {"action_listen", "action_session_start", None}


class TrackerStore:
    """Read-only access to Rasa's SQL tracker store at a SQLAlchemy URL, decrypting with `cipher`."""

    def __init__(self, url: str, cipher: EventCipher) -> None:
        self._engine: Engine = _read_only_engine(url)
        self._cipher = cipher

    def transcript(self, conversation_id: str, *, around: dt.datetime | None = None) -> Transcript:
        """The conversation's events as lines; with `around`, only the Rasa session running then.

        An SMS number keeps one conversation id for good, so without `around` a reviewer would
        see every session that person ever had.
        """
        query = select(_events.c.data).where(_events.c.sender_id == conversation_id).order_by(_events.c.id)
        try:
            with self._engine.connect() as conn:
                events = [json.loads(self._cipher.open(data)) for data in conn.scalars(query)]
        except (SQLAlchemyError, ValueError) as error:
            raise TrackerStoreUnavailable(type(error).__name__) from None
        except ConfigError:  # a DATA_ENCRYPTION_KEY other than the one Rasa wrote with
            raise TrackerStoreUnavailable("DATA_ENCRYPTION_KEY does not match the tracker store") from None
        return build_transcript(session_around(events, around) if around else events)

    def facts(self, conversation_ids: list[str]) -> dict[str, ConversationFacts]:
        """Each conversation's intents (clear columns) and language (the only events decrypted here)."""
        if not conversation_ids:
            return {}
        language_set = and_(_events.c.type_name == "slot", _events.c.action_name == "language")
        query = (
            select(_events.c.sender_id, _events.c.intent_name, case((language_set, _events.c.data), else_=None))
            .where(_events.c.sender_id.in_(set(conversation_ids)), or_(_events.c.type_name == "user", language_set))
            .order_by(_events.c.id)
        )
        intents: dict[str, list[str]] = {}
        languages: dict[str, str] = {}
        try:
            with self._engine.connect() as conn:
                for sender, intent, sealed in conn.execute(query):
                    if sealed is not None:
                        languages[sender] = str(json.loads(self._cipher.open(sealed)).get("value") or "")
                    elif intent:
                        intents.setdefault(sender, []).append(intent)
        except (SQLAlchemyError, ValueError, ConfigError) as error:
            raise TrackerStoreUnavailable(type(error).__name__) from None
        return {
            sender: ConversationFacts(tuple(intents.get(sender, ())), languages.get(sender) or None)
            for sender in set(intents) | set(languages)
        }

    def daily_fallback_counts(self, since: dt.datetime, tz: ZoneInfo) -> dict[dt.date, tuple[int, int]]:
        """For each local day from `since`: (messages from people, of which were not understood).

        A message was not understood when the NLU fell back or, understood, nothing the assistant
        knows fitted it and Rasa's own fallback answered (as /metrics counts them). The database
        groups messages into quarter-hours (every time zone's offset is a whole number of them,
        daylight saving included); Python then assigns each to its local day.
        """
        # Integer division of integers floors on every backend (CAST of a float may round).
        bucket = (cast(_events.c.timestamp, Integer) / _BUCKET_SECONDS).label("bucket")
        is_user = _events.c.type_name == "user"
        core_fallback = and_(_events.c.type_name == "action", _events.c.action_name == CORE_FALLBACK_ACTION)
        messages = func.sum(case((is_user, 1), else_=0))
        fallbacks = func.sum(
            case((and_(is_user, _events.c.intent_name == FALLBACK_INTENT), 1), (core_fallback, 1), else_=0)
        )
        query = (
            select(bucket, messages, fallbacks)
            .where(and_(or_(is_user, core_fallback), _events.c.timestamp >= since.timestamp()))
            .group_by(bucket)
        )
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query).all()
        except SQLAlchemyError as error:
            raise TrackerStoreUnavailable(type(error).__name__) from None
        days: dict[dt.date, tuple[int, int]] = {}
        for quarter, count, fell_back in rows:
            day = dt.datetime.fromtimestamp(int(quarter) * _BUCKET_SECONDS, tz).date()
            turns, misses = days.get(day, (0, 0))
            days[day] = (turns + int(count), misses + int(fell_back or 0))
        return days

    def count_messages(self, counts: MessageCounts, *, now: dt.datetime | None = None) -> None:
        """Add the messages (and fallbacks) written since `counts.last_id`, by channel and intent.

        Counting happens when asked (a metrics scrape), not per turn, so answering a person
        costs nothing extra; each call reads only the events added since the last one. Events
        of the last few seconds wait for the next call, so one that a concurrent Rasa server
        committed late under an earlier id is not skipped for good.
        """
        settled = (now or dt.datetime.now(dt.timezone.utc)).timestamp() - SETTLE_SECONDS
        prefix = func.substr(_events.c.sender_id, 1, PREFIX_LENGTH)
        wanted = or_(
            _events.c.type_name == "user",
            and_(_events.c.type_name == "action", _events.c.action_name == CORE_FALLBACK_ACTION),
        )
        # Only a gap-free run of ids is counted: up to the first event that has not settled yet.
        unsettled = select(func.min(_events.c.id)).where(_events.c.id > counts.last_id, _events.c.timestamp >= settled)
        query = (
            select(prefix, _events.c.type_name, _events.c.intent_name, func.count(), func.max(_events.c.id))
            .where(_events.c.id > counts.last_id, wanted)
            .group_by(prefix, _events.c.type_name, _events.c.intent_name)
        )
        try:
            with self._engine.connect() as conn:
                limit = conn.scalar(unsettled)
                rows = conn.execute(query.where(_events.c.id < limit) if limit else query).all()
        except SQLAlchemyError as error:
            raise TrackerStoreUnavailable(type(error).__name__) from None
        for start, kind, intent, count, last in rows:
            channel = channel_of_conversation(start) or OTHER_CHANNEL
            if kind == "user":
                key = (channel, intent or "unknown")
                counts.messages[key] = counts.messages.get(key, 0) + count
            if kind != "user" or intent == FALLBACK_INTENT:
                counts.fallbacks[channel] = counts.fallbacks.get(channel, 0) + count
            counts.last_id = max(counts.last_id, int(last))

    def dispose(self) -> None:
        self._engine.dispose()


def transcript_or_none(store: TrackerStore, conversation_id: str, *, around: dt.datetime) -> Transcript | None:
    """The Rasa session running at `around`, or None when the tracker store cannot be read (logged)."""
    try:
        return store.transcript(conversation_id, around=around)
    except TrackerStoreUnavailable as error:
        log.warning("transcript unavailable: %s", error)
        return None


def purge_conversations(url: str, *, before: dt.datetime) -> int:
    """Delete the events from before `before`, whole Rasa sessions at a time; return how many went.

    A conversation whose last event is older goes whole. Of one still in use (an SMS number
    keeps its conversation id for good) the sessions that ended before `before` go, so what is
    left begins with a whole session Rasa can carry on from: a session still running at
    `before` is kept whole (Rasa ends sessions after 30 idle minutes). Events no session marks
    (written without Rasa's sessions) go one by one. No event from `before` on is ever deleted.
    """
    cutoff = before.timestamp()
    keep_from = func.coalesce(_start_of_session_at(cutoff), cutoff)
    engine = _writable_engine(url)
    try:
        with engine.begin() as conn:
            if not inspect(conn).has_table(_events.name):
                return 0  # Rasa has not run against this store yet
            ended = delete(_events).where(_events.c.timestamp < cutoff, _events.c.timestamp < keep_from)
            return conn.execute(ended).rowcount
    except SQLAlchemyError as error:
        raise TrackerStoreUnavailable(type(error).__name__) from None
    finally:
        engine.dispose()


def encrypt_clear_events(url: str, cipher: EventCipher, *, batch: int = 500) -> int:
    """Encrypt the events still stored in clear (written before the encrypted store); return how many.

    Safe to run while Rasa runs and to run again: each row is sealed once, in batches. On
    PostgreSQL the old row versions stay on disk until `VACUUM FULL events` (README).
    """
    engine = _writable_engine(url)
    sealed, last_id = 0, 0
    clear = _events.c.data.like("{%")
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(_events.name):
                return 0
        while True:
            with engine.begin() as conn:
                query = select(_events.c.id, _events.c.data).where(_events.c.id > last_id, clear)
                rows = conn.execute(query.order_by(_events.c.id).limit(batch)).all()
                for event_id, data in rows:
                    conn.execute(_events.update().where(_events.c.id == event_id).values(data=cipher.seal(data)))
            if not rows:
                break
            sealed, last_id = sealed + len(rows), rows[-1][0]
        if sealed and engine.dialect.name == "sqlite":
            # Rewrite the file so the clear versions do not linger in its free pages.
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM")
        return sealed
    except SQLAlchemyError as error:
        raise TrackerStoreUnavailable(type(error).__name__) from None
    finally:
        engine.dispose()


def _start_of_session_at(cutoff: float):
    """Per conversation (correlated): when the session running at `cutoff` started.

    That is the last `session_started` at or before the conversation's first event from `cutoff`
    on. Rasa stamps `action_session_start` just before the `session_started` it leads to and
    counts it with the session before, so it does not count as an event of the new session here.
    """
    later, starts = _events.alias("later"), _events.alias("starts")
    first_after = (
        select(func.min(later.c.timestamp))
        .where(
            later.c.sender_id == _events.c.sender_id,
            later.c.timestamp >= cutoff,
            or_(later.c.action_name.is_(None), later.c.action_name != SESSION_START_ACTION),
        )
        .correlate(_events)
        .scalar_subquery()
    )
    return (
        select(func.max(starts.c.timestamp))
        .where(
            starts.c.sender_id == _events.c.sender_id,
            starts.c.type_name == SESSION_STARTED,
            starts.c.timestamp <= first_after,
        )
        .correlate(_events)
        .scalar_subquery()
    )


def _writable_engine(url: str) -> Engine:
    """A plain engine (no pragmas of the card database's): the file is Rasa's, not ours."""
    if make_url(url).get_backend_name() == "sqlite":
        return create_engine(url, future=True, connect_args={"timeout": 10})
    return create_engine(url, future=True, pool_pre_ping=True)


def _read_only_engine(url: str) -> Engine:
    """SQLite is opened read-only, so reading never takes a lock Rasa's writes would wait on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        return create_engine(f"sqlite:///file:{parsed.database}?mode=ro&uri=true", future=True)
    return create_engine(url, future=True, pool_pre_ping=True)


def session_around(events: list[dict[str, Any]], moment: dt.datetime) -> list[dict[str, Any]]:
    """The events of the last Rasa session (they begin with `session_started`) that began by `moment`."""
    sessions: list[list[dict[str, Any]]] = [[]]
    for event in events:
        if event.get("event") == SESSION_STARTED and sessions[-1]:
            sessions.append([])
        sessions[-1].append(event)
    limit = moment.timestamp() + 1  # a flag is written while its turn is still being handled
    started = [s for s in sessions if s and float(s[0].get("timestamp") or 0) <= limit]
    return started[-1] if started else sessions[0]


def build_transcript(events: list[dict[str, Any]]) -> Transcript:
    """The readable lines of a conversation's events, and the names given in it.

    A name is whatever the person answered while the identity form was asking for it (wrong
    names included, which never reach a slot), and any name the person_name slot took.
    """
    lines: list[Line] = []
    names: set[str] = set()
    asking_for = None
    for event in events:
        kind = event.get("event")
        time = dt.datetime.fromtimestamp(float(event.get("timestamp") or 0), dt.timezone.utc)
        if kind == "user":
            if asking_for == "person_name" and (name := name_from_answer(str(event.get("text") or ""))):
                names.add(name)
            intent = (event.get("parse_data") or {}).get("intent") or {}
            lines.append(
                Line(
                    "user",
                    time,
                    text=str(event.get("text") or ""),
                    intent=intent.get("name"),
                    confidence=intent.get("confidence"),
                    message_id=event.get("message_id"),
                )
            )
        elif kind == "bot" and event.get("text"):
            lines.append(Line("bot", time, text=str(event["text"])))
        elif kind == "action" and event.get("name") not in _QUIET_ACTIONS:
            lines.append(Line("action", time, text=str(event["name"])))
        elif kind == "slot" and event.get("name") == "requested_slot":
            asking_for = event.get("value")
        elif kind == "slot" and event.get("name") == "person_name" and isinstance(event.get("value"), str):
            names.add(event["value"])
    return Transcript(lines=lines, names=names)
