"""Cardholders' names and phones: clear in Python, ciphertexts in the database, phones found by keyed hash."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from bot.db import make_session_factory
from bot.errors import ConfigError
from bot.models import Cardholder
from tests.factories import ID_ZHANG, add_card


def test_name_and_phone_read_clear_and_are_stored_encrypted(session, vault):
    holder = add_card(session, vault, name="张伟", phone="+8613912345678").cardholder
    session.flush()
    stored = session.execute(
        text("SELECT name_cipher, phone_cipher, phone_hash FROM cardholders WHERE id = :id"), {"id": holder.id}
    ).one()
    assert vault.decrypt(stored.name_cipher) == "张伟" and vault.decrypt(stored.phone_cipher) == "+8613912345678"
    assert "张伟" not in str(tuple(stored)) and "13912345678" not in str(tuple(stored))
    assert (holder.name, holder.phone) == ("张伟", "+8613912345678")
    holder.phone = "+8613700000000"
    assert holder.phone_hash == vault.phone_hash("+8613700000000")


def test_a_cardholder_is_found_by_phone_only_through_its_keyed_hash(session, vault):
    add_card(session, vault, phone="+8613912345678")
    found = session.scalars(select(Cardholder).where(Cardholder.phone_hash == vault.phone_hash("+8613912345678")))
    assert [holder.phone for holder in found] == ["+8613912345678"]


def test_a_session_without_the_keys_says_so_instead_of_reading(engine, session, vault):
    add_card(session, vault)
    session.commit()
    with make_session_factory(engine)() as keyless:
        holder = keyless.scalars(select(Cardholder)).one()
        with pytest.raises(ConfigError, match="encrypted"):
            holder.name  # noqa: B018
    with pytest.raises(ConfigError, match="add a new one to the session first"):
        Cardholder(id_hash=vault.id_hash(ID_ZHANG), id_cipher=vault.encrypt(ID_ZHANG), name="张伟")
