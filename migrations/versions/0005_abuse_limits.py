"""abuse limits: identity attempts per client and claimed name, inbound SMS already seen

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("name_hash", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_identity_attempts_client_created", ["client_hash", "created_at"], unique=False)
        batch_op.create_index("ix_identity_attempts_name_created", ["name_hash", "created_at"], unique=False)

    op.create_table(
        "seen_sms",
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("message_sid"),
    )
    with op.batch_alter_table("seen_sms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_sms_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seen_sms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_sms_created_at"))
    op.drop_table("seen_sms")

    with op.batch_alter_table("identity_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_identity_attempts_name_created")
        batch_op.drop_index("ix_identity_attempts_client_created")
        batch_op.drop_column("name_hash")
        batch_op.drop_column("client_hash")
