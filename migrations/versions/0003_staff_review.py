"""staff review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa



revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table('flag_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['staff_users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['flag_id'], ['flags.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_notes_flag_id'), ['flag_id'], unique=False)

    op.create_table('nlu_labels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('message_id', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('predicted_intent', sa.String(length=40), nullable=True),
    sa.Column('intent', sa.String(length=40), nullable=False),
    sa.Column('labelled_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("intent IN ('greet', 'goodbye', 'thank', 'affirm', 'deny', 'check_progress', 'report_loss', 'cancel_loss', 'replace_card', 'cross_region', 'apply_card', 'activate_card', 'update_info', 'request_human', 'bot_challenge', 'out_of_scope', 'inform')", name='ck_intent_known'),
    sa.ForeignKeyConstraint(['flag_id'], ['flags.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['labelled_by'], ['staff_users.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('conversation_id', 'message_id', name='uq_nlu_labels_message')
    )
    with op.batch_alter_table('nlu_labels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nlu_labels_created_at'), ['created_at'], unique=False)

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default=sa.text('0'), nullable=False))

    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_flags_assignee_id', 'staff_users', ['assignee_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('flags', schema=None) as batch_op:
        batch_op.drop_constraint('fk_flags_assignee_id', type_='foreignkey')
        batch_op.drop_column('assignee_id')

    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')

    with op.batch_alter_table('nlu_labels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nlu_labels_created_at'))

    op.drop_table('nlu_labels')
    with op.batch_alter_table('flag_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_notes_flag_id'))

    op.drop_table('flag_notes')
