"""Alembic environment: the target URL comes from bot.platform.migrate (or DATABASE_URL for the alembic CLI)."""

from __future__ import annotations

from alembic import context

from bot.config import default_database_url, merged_environment
from bot.db import make_engine
from bot.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url") or merged_environment().get("DATABASE_URL") or default_database_url()


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Batch migrations rebuild a table by dropping it; with foreign keys enforced that drop
            # would cascade to the rows that refer to it (staff notes of flags, say). SQLite ignores
            # this pragma inside a transaction, so it is set on the raw connection first.
            connection.connection.cursor().execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
