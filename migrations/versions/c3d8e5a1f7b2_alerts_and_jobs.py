"""alerts_and_jobs: e-mail alerts sent by the background worker, and daily jobs' claims.

Revision ID: c3d8e5a1f7b2
Revises: c5e2a7d41f08
Create Date: 2026-12-03 13:50:00

Two new tables; nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d8e5a1f7b2'
down_revision = 'c5e2a7d41f08'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_run',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', 'day', name=op.f('pk_job_run')),
    )
    op.create_table(
        'alert',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('state', sa.Enum('pending', 'sending', 'sent', 'failed', 'unknown', 'cancelled',
                                   name='alertstate', native_enum=False, length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('recipients', sa.Text(), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_alert_submission_id_submission'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
        sa.UniqueConstraint('submission_id', name=op.f('uq_alert_submission_id')),
    )
    op.create_index('ix_alert_state_next', 'alert', ['state', 'next_attempt_at'], unique=False)


def downgrade():
    op.drop_index('ix_alert_state_next', table_name='alert')
    op.drop_table('alert')
    op.drop_table('job_run')
