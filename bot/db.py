"""Engine and session factory for the card database; nothing connects at import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine, create_engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from bot.identity.privacy import Vault
from bot.models import VAULT_INFO_KEY


def make_engine(url: str, *, for_reads: bool = False) -> Engine:
    """An engine for `url`; SQLite gets foreign keys, WAL and a busy timeout for concurrent writers.

    `for_reads` leaves out SQLite's IMMEDIATE transactions: pages that only read (the staff
    console) must not hold the write lock the assistant's loss reports wait for. A SQLite file's
    connections are kept open for the next session (SQLAlchemy 1.4 opens one per session; opening
    one with the pragmas below was a tenth of the web app's CPU on a chat turn).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Connections pass between threads only through the pool, one session at a time.
            engine = create_engine(
                url, future=True, poolclass=QueuePool, connect_args={"timeout": 10, "check_same_thread": False}
            )
        else:
            engine = create_engine(url, future=True, connect_args={"timeout": 10})
        event.listen(engine, "connect", _sqlite_pragmas)
        if for_reads:
            return engine
        # pysqlite opens transactions lazily, which breaks SELECT-then-write locking; begin
        # every transaction as IMMEDIATE so writers queue instead of failing.
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
        return engine
    return create_engine(url, future=True, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # let the "begin" listener issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_session_factory(engine: Engine, *, vault: Vault | None = None) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (callers often reply after writing).

    Each session carries the deployment's keys (`vault`), with which a cardholder's `name` and
    `phone` are decrypted and encrypted (bot.models.Cardholder); sessions that never touch
    those may do without.
    """
    return sessionmaker(engine, future=True, expire_on_commit=False, info={VAULT_INFO_KEY: vault})
