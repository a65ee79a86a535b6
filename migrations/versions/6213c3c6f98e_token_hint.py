"""Assignment.token_hint: the first characters of a link's token, to match the links file.

Revision ID: 6213c3c6f98e
Revises: 7dfdcf21fa13
Create Date: 2026-11-30 20:15:21.615810

Links issued before this revision have no hint (their tokens are not stored anywhere).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6213c3c6f98e'
down_revision = '7dfdcf21fa13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_hint', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_column('token_hint')
