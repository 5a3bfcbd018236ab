"""private cardholders: names and phone numbers encrypted at rest

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Existing rows are converted with the deployment's keys: `python -m bot db upgrade` passes its
settings; the alembic command line reads them like every other entry point (environment, then
`.env`). Before changing anything the migration checks that the keys decrypt an ID number already
stored, so a missing or wrong key stops it with a message and leaves the database as it was.
"""
from alembic import context, op
import sqlalchemy as sa

from bot.config import load_settings
from bot.errors import ConfigError
from bot.privacy import Vault


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

KEYS_NEEDED = (
    "migration 0004 encrypts the names and phone numbers of {count} cardholders with the keys their ID "
    "numbers are stored with: set ID_HASH_KEY and DATA_ENCRYPTION_KEY to those keys and run it again. "
    "Nothing was changed. ({problem})"
)


def _vault_for(count: int, sample_id_cipher: str) -> Vault:
    """The deployment's Vault, proven to be the one the stored ID numbers were encrypted with."""
    try:
        settings = context.config.attributes.get("settings") or load_settings()
        vault = Vault(settings)
        vault.decrypt(sample_id_cipher)
    except ConfigError as error:
        raise ConfigError(KEYS_NEEDED.format(count=count, problem=error)) from None
    return vault


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, id_cipher, name, phone FROM cardholders ORDER BY id")).all()
    vault = _vault_for(len(rows), rows[0].id_cipher) if rows else None
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_cipher', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_cipher', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
    update = sa.text(
        "UPDATE cardholders SET name_cipher = :name, phone_cipher = :phone, phone_hash = :phone_hash WHERE id = :id"
    )
    for row in rows:
        conn.execute(
            update,
            {"id": row.id, "name": vault.encrypt(row.name), "phone": vault.encrypt(row.phone),
             "phone_hash": vault.phone_hash(row.phone)},
        )
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.alter_column('name_cipher', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('phone_cipher', existing_type=sa.Text(), nullable=False)
        batch_op.alter_column('phone_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f('ix_cardholders_phone_hash'), ['phone_hash'], unique=False)
        batch_op.drop_column('name')
        batch_op.drop_column('phone')


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, id_cipher, name_cipher, phone_cipher FROM cardholders ORDER BY id")).all()
    vault = _vault_for(len(rows), rows[0].id_cipher) if rows else None
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
    update = sa.text("UPDATE cardholders SET name = :name, phone = :phone WHERE id = :id")
    for row in rows:
        conn.execute(update, {"id": row.id, "name": vault.decrypt(row.name_cipher), "phone": vault.decrypt(row.phone_cipher)})
    with op.batch_alter_table('cardholders', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=100), nullable=False)
        batch_op.alter_column('phone', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_index(batch_op.f('ix_cardholders_phone_hash'))
        batch_op.drop_column('phone_hash')
        batch_op.drop_column('phone_cipher')
        batch_op.drop_column('name_cipher')
