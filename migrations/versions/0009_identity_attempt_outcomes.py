"""identity attempts indexed by scope, outcome and time: a check's counts read only their own rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_BY_TIME = {
    "ix_identity_attempts_conversation_id": ["conversation_id"],
    "ix_identity_attempts_hash_created": ["id_hash", "created_at"],
    "ix_identity_attempts_client_created": ["client_hash", "created_at"],
    "ix_identity_attempts_name_created": ["name_hash", "created_at"],
}
_BY_OUTCOME = {
    "ix_identity_attempts_conversation_outcome": ["conversation_id", "succeeded", "created_at"],
    "ix_identity_attempts_id_outcome": ["id_hash", "succeeded", "created_at"],
    "ix_identity_attempts_client_outcome": ["client_hash", "succeeded", "created_at"],
    "ix_identity_attempts_name_outcome": ["name_hash", "succeeded", "created_at"],
}


def _replace(old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        for name, columns in new.items():
            batch_op.create_index(name, columns, unique=False)
        for name in old:
            batch_op.drop_index(name)


def upgrade() -> None:
    _replace(_BY_TIME, _BY_OUTCOME)


def downgrade() -> None:
    _replace(_BY_OUTCOME, _BY_TIME)
