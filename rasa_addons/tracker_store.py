"""Rasa's SQL tracker store with every event encrypted at rest (brief section 6).

Rasa 3.6's `SQLTrackerStore` keeps each event as a row of its `events` table: the event's whole
JSON document in the `data` column (what people said, slot values such as the ID number and
name, the caller's number in message metadata) beside columns for the conversation id, event
type, time, intent and action names. Here the `data` column is a Fernet ciphertext under
DATA_ENCRYPTION_KEY, while the other columns stay clear so the staff console and `/metrics` can
still count and order events without the key.

The override is the column type alone: Rasa's own `save` writes `json.dumps(event)` into `data`
and its `_retrieve` reads `json.loads(row.data)`, so a column that encrypts on the way in and
decrypts on the way out leaves all of Rasa's logic (sessions, which events are new) as it is.
Rows written in clear before this store was configured still read (bot.identity.privacy.EventCipher).
Reading a conversation decrypts only what is new: each Rasa server remembers the events it last
read of a few hundred recent conversations (`rasa_addons.recently_used`) and asks the database only
for rows after them, so turn 50 of a conversation costs about what turn 5 does. Rasa's lock store
lets one server at a time handle a conversation, and events are only ever appended, so rows with
a higher id are exactly what another server added meanwhile; a new session another server
started, or a conversation deleted underneath (`tracker purge`), makes the server read the whole
conversation again. What a server saves itself it remembers without reading it back: a turn's events
go in with one insert, and a conversation it found empty or a session it started is known from
what it wrote.

Configured in endpoints.yml and deploy/endpoints.production.yml as
`type: rasa_addons.tracker_store.EncryptedSQLTrackerStore` with the keys of Rasa's `type: SQL`.
"""

from __future__ import annotations

import itertools
import json
import weakref
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted, deserialise_events
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.engine import Connection
from sqlalchemy.orm import declarative_base, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from bot.config import data_encryption_key, merged_environment
from bot.identity.privacy import EventCipher
from rasa_addons import event_types
from rasa_addons.recently_used import RecentlyUsed

# Every read of a conversation turns each stored event back into an object: look the types up once.
event_types.install()


class SealedEventData(TypeDecorator):
    """Text stored as a ciphertext: event JSON in, ciphertext in the database, event JSON out."""

    impl = sa.Text
    cache_ok = True

    def __init__(self, cipher: EventCipher) -> None:
        super().__init__()
        self.cipher = cipher

    def process_bind_param(self, value: str | None, dialect) -> str | None:
        return None if value is None else self.cipher.seal(value)

    def process_result_value(self, value: str | None, dialect) -> str | None:
        return None if value is None else self.cipher.open(value)


def sealed_event_model(cipher: EventCipher) -> tuple[Any, type]:
    """A declarative base and an `events` model like Rasa's `SQLEvent`, with `data` encrypted.

    Built per store so the key is the store's own, not a module-level setting.
    """
    base = declarative_base()

    class SQLEvent(base):
        __tablename__ = "events"

        id = sa.Column(sa.Integer, sa.Sequence("events_seq", optional=True), primary_key=True)
        sender_id = sa.Column(sa.String(255), nullable=False, index=True)
        type_name = sa.Column(sa.String(255), nullable=False)
        timestamp = sa.Column(sa.Float)
        intent_name = sa.Column(sa.String(255))
        action_name = sa.Column(sa.String(255))
        data = sa.Column(SealedEventData(cipher))

    return base, SQLEvent


@dataclass
class _Read:
    """The events of a conversation's latest session as last read, and the ids they span.

    `tracker` is the tracker last handed out for them: saving it appends what follows `events`.
    The events are handed out again as the same objects, so Rasa's policies can tell what they
    have seen before (rasa_addons/past_states.py); Rasa treats events as fixed once logged.
    """

    first_id: int | None  # None while nothing is stored: read as empty here, not yet saved
    last_id: int
    events: list[Event]
    tracker: weakref.ReferenceType[DialogueStateTracker] | None = None


class EncryptedSQLTrackerStore(SQLTrackerStore):
    """`SQLTrackerStore` whose `events.data` is encrypted with DATA_ENCRYPTION_KEY.

    The key comes from the environment (`.env` too outside production, as everywhere else),
    never from the endpoints file; a missing or malformed key stops Rasa at start-up rather than
    writing anything in clear. `cipher` is for code that builds the store itself (tests).
    """

    def __init__(self, *args: Any, cipher: EventCipher | None = None, **kwargs: Any) -> None:
        cipher = cipher or EventCipher(data_encryption_key(merged_environment()))
        # Instance attributes shadow Rasa's class-level Base and SQLEvent, which every method
        # of SQLTrackerStore (table creation, save, retrieve, keys) reaches through `self`.
        self.Base, self.SQLEvent = sealed_event_model(cipher)
        # What this server last read of the conversations it handled lately, for as long as a
        # verification lasts (15 minutes) and for at most 512 of them.
        self.recent: RecentlyUsed[str, _Read] = RecentlyUsed(size=512, idle_seconds=900.0)
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._pool_sqlite()
        # Built once: building a statement and its cache key on every turn cost more than running it.
        column = self.SQLEvent.__table__.c
        self._insert = self.SQLEvent.__table__.insert()
        self._ids_after = (
            sa.select(column.id)
            .where(column.sender_id == sa.bindparam("sender_id"), column.id > sa.bindparam("last_id"))
            .order_by(column.id)
        )
        self._rows_after = (
            sa.select(column.id, column.type_name, column.data)
            .where(
                column.sender_id == sa.bindparam("sender_id"),
                sa.or_(column.id > sa.bindparam("last_id"), column.id == sa.bindparam("first_id")),
            )
            .order_by(column.id)
        )
        # Every session, as Rasa's tracker API reads a conversation (`retrieve_full_tracker`).
        self._all_rows = (
            sa.select(column.id, column.type_name, column.data)
            .where(column.sender_id == sa.bindparam("sender_id"))
            .order_by(column.id)
        )
        # Rasa's query for the latest session (`_event_query`), as a statement built once.
        session_start = (
            sa.select(sa.func.max(column.timestamp))
            .where(column.sender_id == sa.bindparam("sender_id"), column.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        self._latest_session = (
            sa.select(column.id, column.type_name, column.data)
            .where(
                column.sender_id == sa.bindparam("sender_id"),
                sa.or_(column.timestamp >= session_start, session_start.is_(None)),
            )
            .order_by(column.id)
        )

    def _pool_sqlite(self) -> None:
        """Keep SQLite connections open, in WAL mode, committing without waiting for the disk.

        Rasa opens a new SQLite connection per read or save (SQLAlchemy 1.4's default for files)
        and commits with a rollback journal, which waits for the disk twice per save: together
        the largest cost of a turn under load (py-spy, 2026-11-30). With WAL and
        `synchronous=NORMAL` a crash of the server loses nothing committed and the file stays
        consistent; a power cut may lose the last turns of conversations, never corrupt them.
        """
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=QueuePool, connect_args={"check_same_thread": False})
        sa.event.listen(self.engine, "connect", _sqlite_wal)
        self.sessionmaker = sessionmaker(bind=self.engine)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        """The latest session read from what is new since this server last read it; every session
        (for Rasa's tracker API) read by a statement built once; Rasa's own read without a domain."""
        if not self.domain:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if fetch_events_from_all_sessions:
            return self._whole_conversation(sender_id)
        # On a connection of its own (in a transaction where the database opens one for reads, as
        # PostgreSQL does): Rasa's ORM session around it cost more than the statements (py-spy, 2026-12-01).
        with self.engine.begin() as connection:
            read = self._read_on(connection, sender_id, self.recent.get(sender_id))
        if read is None:  # nothing stored: the conversation Rasa now creates is all new events
            self.recent.put(sender_id, _Read(None, 0, []))
            return None
        tracker = DialogueStateTracker.from_events(sender_id, list(read.events), self.domain.slots)
        read.tracker = weakref.ref(tracker)
        self.recent.put(sender_id, read)
        return tracker

    def _whole_conversation(self, sender_id: str) -> DialogueStateTracker | None:
        """Every session of the conversation, as Rasa's own read returns it, without its ORM session
        and query: the hotline asks for a call's tracker when the call ends, 8.8 ms of Rasa's CPU
        through Rasa's read and 7.0 here (decrypting each event is most of what is left)."""
        with self.engine.connect() as connection:
            rows = connection.execute(self._all_rows, {"sender_id": sender_id}).all()
        if not rows:
            return None
        return DialogueStateTracker.from_events(sender_id, _events(rows), self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Rasa's save; a tracker this server read appends its new events without counting the stored ones."""
        known = self.recent.get(tracker.sender_id)
        if known is not None and known.first_id is None and known.tracker is None:
            known.tracker = weakref.ref(tracker)  # read as empty just now, under the conversation's lock
        if known is None or known.tracker is None or known.tracker() is not tracker:
            await super().save(tracker)
            return
        await self.stream_events(tracker)
        new = list(itertools.islice(tracker.events, len(known.events), None))
        if not new:
            return
        # On a connection of its own: Rasa's session around it (and its schema check, done when
        # this server read the conversation) cost more than the insert.
        with self.engine.begin() as connection:
            connection.execute(self._insert, [_row(tracker.sender_id, event) for event in new])
            # The lock store keeps every other writer off this conversation, so its rows after the
            # last one known here are exactly those just written.
            after = {"sender_id": tracker.sender_id, "last_id": known.last_id}
            ids = list(connection.execute(self._ids_after, after).scalars())
        if len(ids) == len(new):
            self._remember(tracker.sender_id, known, list(zip(ids, new, strict=True)))
        else:
            self.recent.drop(tracker.sender_id)  # not as expected: the next read asks the database

    def _remember(self, sender_id: str, known: _Read, rows: list[tuple[int, Event]]) -> None:
        """Add the rows just saved to what this server knows of the conversation's latest session.

        Where the rows start a new session, the session is what Rasa's own read would return: the
        events stamped at or after its `session_started`. When the stamps do not draw that line
        cleanly, the next read asks the database.
        """
        saved = [event for _, event in rows]
        starts = [i for i, event in enumerate(saved) if isinstance(event, SessionStarted)]
        if not starts:
            known.first_id = rows[0][0] if known.first_id is None else known.first_id
            known.events += saved
            known.last_id = rows[-1][0]
            return
        start = starts[-1]
        stamps = [event.timestamp for event in known.events + saved]
        at = len(known.events) + start
        if None in stamps or any(stamp >= stamps[at] for stamp in stamps[:at]) or min(stamps[at:]) < stamps[at]:
            self.recent.drop(sender_id)
            return
        known.first_id, known.last_id, known.events = rows[start][0], rows[-1][0], saved[start:]

    def _read_on(self, connection: Connection, sender_id: str, known: _Read | None) -> _Read | None:
        if known is not None and known.first_id is not None:
            after = {"sender_id": sender_id, "last_id": known.last_id, "first_id": known.first_id}
            rows = connection.execute(self._rows_after, after).all()
            still_there = bool(rows) and rows[0].id == known.first_id
            if still_there and all(row.type_name != SessionStarted.type_name for row in rows[1:]):
                new = rows[1:]
                events = known.events + _events(new)
                return _Read(known.first_id, new[-1].id if new else known.last_id, events)
        rows = self._latest_session_rows(connection, sender_id)
        if not rows:
            return None
        return _Read(rows[0].id, rows[-1].id, _events(rows))

    def _latest_session_rows(self, connection: Connection, sender_id: str) -> list[Any]:
        """The rows of the conversation's latest session, as Rasa's `_event_query` finds them."""
        return connection.execute(self._latest_session, {"sender_id": sender_id}).all()


def _row(sender_id: str, event: Event) -> dict[str, Any]:
    """The columns of a stored event, as Rasa's own save fills them."""
    data = event.as_dict()
    return {
        "sender_id": sender_id,
        "type_name": event.type_name,
        "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"),
        "data": json.dumps(data),
    }


def _events(rows: list[Any]) -> list[Event]:
    """The events of stored rows, as Rasa's own read makes them."""
    return deserialise_events([json.loads(row.data) for row in rows])


def _sqlite_wal(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
