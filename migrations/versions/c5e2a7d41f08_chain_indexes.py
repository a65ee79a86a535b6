"""chain_indexes: the links still usable, and the visits sent since a date, found by index.

Revision ID: c5e2a7d41f08
Revises: b7e4c1d9a2f3
Create Date: 2026-12-03 14:55:00

At a national chain's size (144,000 visits, bench/chain_pages.py) HQ's home read every
assignment and every submission to count the open links and this month's visits.
"""
from alembic import op

revision = "c5e2a7d41f08"
down_revision = "b7e4c1d9a2f3"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_assignment_state_due", "assignment", ["state", "due"])
    op.create_index("ix_submission_submitted_at", "submission", ["submitted_at"])


def downgrade():
    op.drop_index("ix_submission_submitted_at", table_name="submission")
    op.drop_index("ix_assignment_state_due", table_name="assignment")
