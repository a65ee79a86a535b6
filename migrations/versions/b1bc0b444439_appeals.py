"""appeals: a branch disputes a visit, HQ decides each disputed item (SPEC §8).

Revision ID: b1bc0b444439
Revises: d4a6b8c0e2f4
Create Date: 2026-12-03 17:10:00

New tables only; nothing existing changes.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b1bc0b444439'
down_revision = 'd4a6b8c0e2f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'appeal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.Enum('scoring', 'shopper', 'circumstances', name='appealcategory',
                                      native_enum=False, length=16), nullable=False),
        sa.Column('reason', sa.String(length=2000), nullable=False),
        sa.Column('state', sa.Enum('open', 'decided', name='appealstate', native_enum=False, length=16),
                  nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'], name=op.f('fk_appeal_submission_id_submission'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['opened_by_id'], ['user.id'], name=op.f('fk_appeal_opened_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal')),
        sa.UniqueConstraint('submission_id', name=op.f('uq_appeal_submission_id')),
    )
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.create_index('ix_appeal_state_opened', ['state', 'opened_at'], unique=False)
    op.create_table(
        'appeal_item',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('appeal_id', sa.Integer(), nullable=False),
        sa.Column('question_key', sa.String(length=64), nullable=True),
        sa.Column('repeat', sa.Integer(), nullable=False),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.String(length=2000), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('shopper_value', sa.Text(), nullable=True),
        sa.Column('shopper_status', sa.String(length=16), nullable=True),
        sa.Column('hq_value', sa.Text(), nullable=True),
        sa.Column('hq_status', sa.String(length=16), nullable=True),
        sa.Column('score_before', sa.Double(), nullable=True),
        sa.Column('score_after', sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(['appeal_id'], ['appeal.id'], name=op.f('fk_appeal_item_appeal_id_appeal'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user.id'], name=op.f('fk_appeal_item_decided_by_id_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_appeal_item')),
    )
    with op.batch_alter_table('appeal_item', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeal_item_appeal_id'), ['appeal_id'], unique=False)


def downgrade():
    with op.batch_alter_table('appeal_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeal_item_appeal_id'))
    op.drop_table('appeal_item')
    with op.batch_alter_table('appeal', schema=None) as batch_op:
        batch_op.drop_index('ix_appeal_state_opened')
    op.drop_table('appeal')
