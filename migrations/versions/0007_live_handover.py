"""live handovers to staff, their messages, and callback requests

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_KINDS = ("loss_reported", "unblocked", "lapsed", "code", "card_ready")
_NEW_KINDS = (*_OLD_KINDS, "handover")
_OPEN = "state IN ('waiting', 'taken', 'callback')"


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _kinds(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint("ck_kind_known", type_="check")
        batch_op.create_check_constraint("ck_kind_known", f"kind IN ({_one_of(values)})")


def upgrade() -> None:
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("task", sa.String(length=20), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("cardholder_id", sa.Integer(), nullable=True),
        sa.Column("reply_to_cipher", sa.Text(), nullable=True),
        sa.Column("callback_phone_cipher", sa.Text(), nullable=True),
        sa.Column("taken_by_id", sa.Integer(), nullable=True),
        sa.Column("taken_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('waiting', 'taken', 'callback', 'handed_back', 'closed')", name="ck_state_known"
        ),
        sa.CheckConstraint("channel IN ('chat', 'sms')", name="ck_handover_channel_known"),
        sa.ForeignKeyConstraint(["flag_id"], ["flags.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["cardholder_id"], ["cardholders.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["taken_by_id"], ["staff_users.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handovers_conversation_id"), ["conversation_id"], unique=False)
        batch_op.create_index("ix_handovers_state_created", ["state", "created_at"], unique=False)
        batch_op.create_index(
            "uq_handovers_one_open_per_conversation",
            ["conversation_id"],
            unique=True,
            sqlite_where=sa.text(_OPEN),
            postgresql_where=sa.text(_OPEN),
        )

    op.create_table(
        "handover_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("sender", sa.String(length=10), nullable=False),
        sa.Column("staff_name", sa.String(length=64), nullable=True),
        sa.Column("text_cipher", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("sender IN ('person', 'staff', 'system')", name="ck_sender_known"),
        sa.ForeignKeyConstraint(["handover_id"], ["handovers.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("handover_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_handover_messages_handover_id"), ["handover_id"], unique=False)

    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("phone_cipher", sa.Text(), nullable=False),
        sa.Column("note_cipher", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_by", sa.String(length=64), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'done')", name="ck_status_known"),
        sa.ForeignKeyConstraint(["handover_id"], ["handovers.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("handover_id"),
    )
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.create_index("ix_callbacks_status_due", ["status", "due_at"], unique=False)

    _kinds(_NEW_KINDS)


def downgrade() -> None:
    op.execute("DELETE FROM outbound_messages WHERE kind = 'handover'")
    _kinds(_OLD_KINDS)
    with op.batch_alter_table("callbacks", schema=None) as batch_op:
        batch_op.drop_index("ix_callbacks_status_due")
    op.drop_table("callbacks")
    with op.batch_alter_table("handover_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_handover_messages_handover_id"))
    op.drop_table("handover_messages")
    with op.batch_alter_table("handovers", schema=None) as batch_op:
        batch_op.drop_index("uq_handovers_one_open_per_conversation")
        batch_op.drop_index("ix_handovers_state_created")
        batch_op.drop_index(batch_op.f("ix_handovers_conversation_id"))
    op.drop_table("handovers")
