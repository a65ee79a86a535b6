"""actions: a fix committed to for one question of one branch (SPEC §8).

Revision ID: c3d5e7f9a1b2
Revises: c3d8e5a1f7b2
Create Date: 2026-12-03 13:55:00

A new table only; nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c3d5e7f9a1b2'
down_revision = 'c3d8e5a1f7b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'action',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('checklist_id', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=64), nullable=False),
        sa.Column('question_text', sa.String(length=2000), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=True),
        sa.Column('what', sa.String(length=2000), nullable=False),
        sa.Column('owner', sa.String(length=200), nullable=False),
        sa.Column('due', sa.Date(), nullable=False),
        sa.Column('state', sa.Enum('open', 'done', 'dropped', name='actionstate', native_enum=False, length=16),
                  nullable=False),
        sa.Column('note', sa.String(length=2000), nullable=True),
        sa.Column('opened_on', sa.Date(), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_action_branch_id_branch')),
        sa.ForeignKeyConstraint(['checklist_id'], ['checklist.id'], name=op.f('fk_action_checklist_id_checklist')),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_action_submission_id_submission'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_action_opened_by_id_user')),
        sa.ForeignKeyConstraint(['closed_by_id'], ['user.id'], name=op.f('fk_action_closed_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_action')),
    )
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.create_index('ix_action_branch_state', ['branch_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('action', schema=None) as batch_op:
        batch_op.drop_index('ix_action_branch_state')
    op.drop_table('action')
