"""outbound SMS, opt-outs and one-time codes

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_OLD_REASONS = (
    "nlu_fallback", "human_requested", "identity_failed", "loss_reported", "loss_cancelled", "call_dropped",
    "action_error",
)  # fmt: skip
_NEW_REASONS = (*_OLD_REASONS, "sms_failed")


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _reasons(values: tuple[str, ...]) -> None:
    with op.batch_alter_table("flags", schema=None) as batch_op:
        batch_op.drop_constraint("ck_reason_known", type_="check")
        batch_op.create_check_constraint("ck_reason_known", f"reason IN ({_one_of(values)})")


def upgrade() -> None:
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("to_cipher", sa.Text(), nullable=False),
        sa.Column("to_token", sa.String(length=32), nullable=False),
        sa.Column("body_cipher", sa.Text(), nullable=False),
        sa.Column("reference", sa.String(length=10), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("twilio_sid", sa.String(length=40), nullable=True),
        sa.Column("error", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('loss_reported', 'unblocked', 'lapsed', 'code', 'card_ready')", name="ck_kind_known"
        ),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'local')", name="ck_state_known"
        ),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
        sa.UniqueConstraint("twilio_sid"),
    )
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index("ix_outbound_messages_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_to_token"), ["to_token"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_card_id"), ["card_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbound_messages_created_at"), ["created_at"], unique=False)

    op.create_table(
        "sms_opt_outs",
        sa.Column("to_token", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("to_token"),
    )

    op.create_table(
        "one_time_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=100), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('active', 'verified', 'used', 'failed', 'superseded')", name="ck_state_known"),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.create_index("ix_one_time_codes_card_created", ["card_id", "created_at"], unique=False)

    _reasons(_NEW_REASONS)


def downgrade() -> None:
    op.execute("DELETE FROM flags WHERE reason = 'sms_failed'")
    _reasons(_OLD_REASONS)
    with op.batch_alter_table("one_time_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_one_time_codes_card_created")
    op.drop_table("one_time_codes")
    op.drop_table("sms_opt_outs")
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_messages_created_at"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_card_id"))
        batch_op.drop_index(batch_op.f("ix_outbound_messages_to_token"))
        batch_op.drop_index("ix_outbound_messages_due")
    op.drop_table("outbound_messages")
