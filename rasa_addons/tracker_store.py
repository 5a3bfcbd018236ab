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
Rows written in clear before this store was configured still read (bot.privacy.EventCipher).
Configured in endpoints.yml and deploy/endpoints.production.yml as
`type: rasa_addons.tracker_store.EncryptedSQLTrackerStore` with the keys of Rasa's `type: SQL`.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.orm import declarative_base
from sqlalchemy.types import TypeDecorator

from bot.config import data_encryption_key, merged_environment
from bot.privacy import EventCipher
from rasa_addons import event_types

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
        super().__init__(*args, **kwargs)
