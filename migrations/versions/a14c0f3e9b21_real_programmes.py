"""Real programmes (SPEC §3, §4): answers per repetition, bonuses and deductions, outcomes,
and each visit's standard scores stored.

Revision ID: a14c0f3e9b21
Revises: 6213c3c6f98e
Create Date: 2026-12-03 10:10:00

Existing visits get their standard scores from their answers (Σe / Σw per standard), as the
reports computed them until now.
"""
from alembic import op
import sqlalchemy as sa


revision = 'a14c0f3e9b21'
down_revision = '6213c3c6f98e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('adjustment', sa.Double(), nullable=True))
        batch_op.drop_constraint('uq_answer_submission_id', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_answer_submission_id'),
                                          ['submission_id', 'question_key', 'repeat'])
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=64), nullable=True))
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('outcome_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('outcome_at', sa.DateTime(), nullable=True))
    op.create_table(
        'standard_score',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('standard_key', sa.String(length=64), nullable=False),
        sa.Column('earned', sa.Double(), nullable=True),
        sa.Column('possible', sa.Double(), nullable=True),
        sa.Column('score', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_standard_score_submission_id_submission'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_standard_score')),
        sa.UniqueConstraint('submission_id', 'standard_key', name=op.f('uq_standard_score_submission_id')),
    )
    with op.batch_alter_table('standard_score', schema=None) as batch_op:
        batch_op.create_index('ix_standard_score_standard', ['standard_key', 'submission_id'], unique=False)
    op.execute(
        "INSERT INTO standard_score (submission_id, standard_key, earned, possible, score) "
        "SELECT submission_id, standard_key, SUM(earned), SUM(possible), SUM(earned) / SUM(possible) "
        "FROM answer WHERE standard_key IS NOT NULL AND possible > 0 GROUP BY submission_id, standard_key"
    )


def downgrade():
    with op.batch_alter_table('standard_score', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_score_standard')
    op.drop_table('standard_score')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('outcome_at')
        batch_op.drop_column('outcome_comment')
        batch_op.drop_column('outcome')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('outcome')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_constraint('uq_answer_submission_id', type_='unique')
        batch_op.create_unique_constraint('uq_answer_submission_id', ['submission_id', 'question_key'])
        batch_op.drop_column('adjustment')
        batch_op.drop_column('repeat')
