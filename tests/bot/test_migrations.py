from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select, text

from bot.db import make_engine, make_session_factory
from bot.errors import ConfigError
from bot.models import Base, Cardholder, FlagNote
from bot.platform.migrate import alembic_config, upgrade
from tests.factories import ID_ZHANG
from tests.support import make_settings


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade(url)
    tables = set(inspect(engine).get_table_names())
    assert {"cards", "loss_reports", "flags", "identity_attempts", "audit_log"} <= tables
    engine.dispose()


def _database_at_0003_with_clear_personal_data(tmp_path, vault):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO cardholders (id, id_hash, id_cipher, name, phone, region, created_at, updated_at) "
                "VALUES (1, :hash, :cipher, '张伟', '+8613912345678', '110105', :at, :at)"
            ),
            {"hash": vault.id_hash(ID_ZHANG), "cipher": vault.encrypt(ID_ZHANG), "at": "2026-01-01 00:00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO flags (id, conversation_id, channel, reason, status, created_at, updated_at) VALUES "
                "(1, 'web-1', 'chat', 'human_requested', 'open', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
        conn.execute(
            text("INSERT INTO flag_notes (flag_id, text, created_at) VALUES (1, '回电13912345678', :at)"),
            {"at": "2026-01-01 00:00:00"},
        )
    engine.dispose()
    return url


def _file_bytes(url: str) -> bytes:
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())


def test_0004_encrypts_names_phones_and_notes_of_existing_rows(tmp_path, settings, vault):
    url = _database_at_0003_with_clear_personal_data(tmp_path, vault)
    upgrade(url, settings=settings)
    assert "张伟".encode() not in _file_bytes(url) and b"13912345678" not in _file_bytes(url)
    engine = make_engine(url)
    with make_session_factory(engine, vault=vault)() as session:
        holder = session.scalars(select(Cardholder)).one()
        assert (holder.name, holder.phone, holder.phone_hash) == (
            "张伟",
            "+8613912345678",
            vault.phone_hash(holder.phone),
        )
        assert session.scalars(select(FlagNote)).one().text == "回电13912345678"
    engine.dispose()
    command.downgrade(_config_with(url, settings), "0003")  # and back, for a deployment that rolls back
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT name, phone FROM cardholders")).one() == ("张伟", "+8613912345678")
        assert conn.execute(text("SELECT text FROM flag_notes")).scalar() == "回电13912345678"
    engine.dispose()


def test_0004_without_the_right_keys_changes_nothing_and_says_why(tmp_path, vault):
    url = _database_at_0003_with_clear_personal_data(tmp_path, vault)
    other_keys = make_settings(url)
    with pytest.raises(ConfigError, match="set ID_HASH_KEY and DATA_ENCRYPTION_KEY to those keys") as error:
        upgrade(url, settings=other_keys)
    assert "张伟" not in str(error.value) and "13912345678" not in str(error.value)
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "0003"
        assert conn.execute(text("SELECT name FROM cardholders")).scalar() == "张伟"
    engine.dispose()


def _config_with(url: str, settings):
    config = alembic_config(url)
    config.attributes["settings"] = settings
    return config
