"""chain_indexes: the network average read from an index alone (issue 16).

Revision ID: 248e4ee8b8cb
Revises: 3c68c4eb8c93
Create Date: 2026-12-03 17:30:00

``ix_submission_visit_scores`` (visit_date, branch_id, score, review) holds all the network
average needs, so a chain's year of visits is read from the index, not the table
(bench/chain_pages.py, the branch report's aggregation). It starts with visit_date, so it
replaces ``ix_submission_visit_date``. Indexes only: no data moves.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '248e4ee8b8cb'
down_revision = '3c68c4eb8c93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index('ix_submission_visit_scores', ['visit_date', 'branch_id', 'score', 'review'],
                              unique=False)
        batch_op.drop_index(batch_op.f('ix_submission_visit_date'))


def downgrade():
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_visit_date'), ['visit_date'], unique=False)
        batch_op.drop_index('ix_submission_visit_scores')
