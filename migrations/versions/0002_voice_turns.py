"""voice turns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa



revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

def upgrade() -> None:
    op.create_table('voice_turns',
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('twiml', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('voice_turns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_turns_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('voice_turns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_turns_created_at'))

    op.drop_table('voice_turns')
