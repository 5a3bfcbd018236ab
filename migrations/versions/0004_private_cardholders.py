"""private cardholders: names, phone numbers and staff notes encrypted at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Existing rows are converted with the deployment's keys: `python -m bot db upgrade` passes its
settings; the alembic command line reads them like every other entry point (environment, then
`.env`). Before changing anything the migration checks that the keys decrypt an ID number already
stored, so a missing or wrong key stops it with a message and leaves the database as it was. An
empty database needs no keys.
"""
from alembic import context, op
import sqlalchemy as sa

from bot.config import load_settings
from bot.errors import ConfigError
from bot.identity.privacy import Vault


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

KEYS_NEEDED = (
    "migration 0004 converts {rows} stored rows (cardholders' names and phones, staff notes) with the keys "
    "the ID numbers are stored with: set ID_HASH_KEY and DATA_ENCRYPTION_KEY to those keys and run it "
    "again. Nothing was changed. ({problem})"
)


def _vault(conn, rows: int) -> Vault | None:
    """None for an empty database; else the deployment's Vault, proven to decrypt a stored ID number."""
    if not rows:
        return None
    sample = conn.execute(sa.text("SELECT id_cipher FROM cardholders ORDER BY id LIMIT 1")).scalar()
    try:
        vault = Vault(context.config.attributes.get("settings") or load_settings())
        if sample is not None:
            vault.decrypt(sample)
    except ConfigError as error:
        raise ConfigError(KEYS_NEEDED.format(rows=rows, problem=error)) from None
    return vault


def upgrade() -> None:
    conn = op.get_bind()
    holders = conn.execute(sa.text("SELECT id, name, phone FROM cardholders ORDER BY id")).all()
    notes = conn.execute(sa.text("SELECT id, text FROM flag_notes ORDER BY id")).all()
    vault = _vault(conn, len(holders) + len(notes))
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_cipher', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_cipher', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_cipher', sa.Text(), nullable=True))
    for row in holders:
        conn.execute(
            sa.text("UPDATE cardholders SET name_cipher = :name, phone_cipher = :phone, phone_hash = :phone_hash "
                    "WHERE id = :id"),
            {"id": row.id, "name": vault.encrypt(row.name), "phone": vault.encrypt(row.phone),
             "phone_hash": vault.phone_hash(row.phone)},
        )
    for row in notes:
        conn.execute(sa.text("UPDATE flag_notes SET text_cipher = :text WHERE id = :id"),
                     {"id": row.id, "text": vault.encrypt(row.text)})
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.alter_column('name_cipher', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('phone_cipher', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('phone_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_cardholders_phone_hash'), ['phone_hash'], unique=False)
        batch_op.drop_column('name')
        batch_op.drop_column('phone')
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.alter_column('text_cipher', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('text')


def downgrade() -> None:
    conn = op.get_bind()
    holders = conn.execute(sa.text("SELECT id, name_cipher, phone_cipher FROM cardholders ORDER BY id")).all()
    notes = conn.execute(sa.text("SELECT id, text_cipher FROM flag_notes ORDER BY id")).all()
    vault = _vault(conn, len(holders) + len(notes))
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
    for row in holders:
        conn.execute(sa.text("UPDATE cardholders SET name = :name, phone = :phone WHERE id = :id"),
                     {"id": row.id, "name": vault.decrypt(row.name_cipher), "phone": vault.decrypt(row.phone_cipher)})
    for row in notes:
        conn.execute(sa.text("UPDATE flag_notes SET text = :text WHERE id = :id"),
                     {"id": row.id, "text": vault.decrypt(row.text_cipher)})
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.alter_column('text', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('text_cipher')
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_index(batch_op.f('ix_cardholders_phone_hash'))
        batch_op.drop_column('phone_hash')
        batch_op.drop_column('phone_cipher')
        batch_op.drop_column('name_cipher')
