"""score_rollups: each branch's counted scores summed per calendar month (issue 16).

Revision ID: dbf80696e9b7
Revises: 248e4ee8b8cb
Create Date: 2026-12-03 20:30:00

``score_month`` (overall scores) and ``standard_month`` (standard scores) let the region and
network averages read a row per branch and month instead of a row per visit
(reports/queries.py); survey/rollups.py keeps them on every write. Filled here from the
visits that count (neither pending, returned nor rejected), as ``flask rollups check`` would.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'dbf80696e9b7'
down_revision = '248e4ee8b8cb'
branch_labels = None
depends_on = None

COUNTS = "s.review NOT IN ('pending', 'returned', 'rejected')"


def upgrade():
    op.create_table(
        'score_month',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('total', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
        sa.PrimaryKeyConstraint('branch_id', 'month'),
    )
    with op.batch_alter_table('score_month', schema=None) as batch_op:
        batch_op.create_index('ix_score_month_network', ['month', 'branch_id', 'n', 'total'], unique=False)
        batch_op.create_index('ix_score_month_branch', ['branch_id', 'month', 'n', 'total'], unique=False)
    op.create_table(
        'standard_month',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('month', sa.Date(), nullable=False),
        sa.Column('standard_key', sa.String(length=64), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('total', sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], ),
        sa.PrimaryKeyConstraint('branch_id', 'month', 'standard_key'),
    )
    with op.batch_alter_table('standard_month', schema=None) as batch_op:
        batch_op.create_index('ix_standard_month_branch', ['branch_id', 'month', 'standard_key', 'n', 'total'],
                              unique=False)
    month = ("CAST(date_trunc('month', s.visit_date) AS date)" if op.get_bind().dialect.name == 'postgresql'
             else "date(s.visit_date, 'start of month')")
    op.execute(
        f"INSERT INTO score_month (branch_id, month, n, total) SELECT s.branch_id, {month}, count(s.score), "
        f"sum(s.score) FROM submission s WHERE {COUNTS} AND s.score IS NOT NULL GROUP BY s.branch_id, {month}")
    op.execute(
        f"INSERT INTO standard_month (branch_id, month, standard_key, n, total) SELECT s.branch_id, {month}, "
        f"t.standard_key, count(*), sum(t.score) FROM submission s JOIN standard_score t ON t.submission_id = s.id "
        f"WHERE {COUNTS} GROUP BY s.branch_id, {month}, t.standard_key")


def downgrade():
    with op.batch_alter_table('standard_month', schema=None) as batch_op:
        batch_op.drop_index('ix_standard_month_branch')
    op.drop_table('standard_month')
    with op.batch_alter_table('score_month', schema=None) as batch_op:
        batch_op.drop_index('ix_score_month_branch')
        batch_op.drop_index('ix_score_month_network')
    op.drop_table('score_month')
