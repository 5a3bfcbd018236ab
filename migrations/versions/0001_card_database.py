"""card database

Revision ID: 0001
Revises: 
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=30), nullable=False),
    sa.Column('target_id', sa.String(length=40), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)

    op.create_table('cardholders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('id_cipher', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('region', sa.String(length=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id_hash')
    )
    op.create_table('identity_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=True),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('identity_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_attempts_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_identity_attempts_hash_created', ['id_hash', 'created_at'], unique=False)

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role IN ('reviewer', 'admin')", name='ck_role_known'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('cards',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cardholder_id', sa.Integer(), nullable=False),
    sa.Column('card_number', sa.String(length=9), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('office', sa.String(length=200), nullable=False),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('submitted', 'under_review', 'in_production', 'shipped', 'ready_for_pickup', 'issued', 'active', 'loss_reported', 'lost', 'cancelled', 'rejected')", name='ck_status_known'),
    sa.ForeignKeyConstraint(['cardholder_id'], ['cardholders.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('card_number')
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_cardholder_id'), ['cardholder_id'], unique=False)

    op.create_table('card_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('card_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_status_changes_card_id'), ['card_id'], unique=False)

    op.create_table('loss_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=10), nullable=False),
    sa.Column('card_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('previous_status', sa.String(length=20), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("channel IN ('chat', 'voice', 'sms', 'counter')", name='ck_channel_known'),
    sa.CheckConstraint("state IN ('active', 'lapsed', 'cancelled', 'formalised')", name='ck_state_known'),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('loss_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_loss_reports_card_id'), ['card_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_loss_reports_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('uq_loss_reports_one_active_per_card', ['card_id'], unique=True, sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))

    op.create_table('flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('cardholder_id', sa.Integer(), nullable=True),
    sa.Column('loss_report_id', sa.Integer(), nullable=True),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("reason IN ('nlu_fallback', 'human_requested', 'identity_failed', 'loss_reported', 'loss_cancelled', 'call_dropped', 'action_error')", name='ck_reason_known'),
    sa.CheckConstraint("status IN ('open', 'reviewed', 'escalated')", name='ck_status_known'),
    sa.ForeignKeyConstraint(['cardholder_id'], ['cardholders.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['loss_report_id'], ['loss_reports.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['reviewer_id'], ['staff_users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flags_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_flags_status_created', ['status', 'created_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_index('ix_flags_status_created')
        batch_op.drop_index(batch_op.f('ix_flags_conversation_id'))

    op.drop_table('flags')
    with op.batch_alter_table('loss_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_loss_reports_one_active_per_card', sqlite_where=sa.text("state = 'active'"), postgresql_where=sa.text("state = 'active'"))
        batch_op.drop_index(batch_op.f('ix_loss_reports_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_loss_reports_card_id'))

    op.drop_table('loss_reports')
    with op.batch_alter_table('card_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_status_changes_card_id'))

    op.drop_table('card_status_changes')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_cardholder_id'))

    op.drop_table('cards')
    op.drop_table('staff_users')
    with op.batch_alter_table('identity_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_attempts_hash_created')
        batch_op.drop_index(batch_op.f('ix_identity_attempts_conversation_id'))

    op.drop_table('identity_attempts')
    op.drop_table('cardholders')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))

    op.drop_table('audit_log')
