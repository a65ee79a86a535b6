"""review_states: a submission's review state (counted, pending, returned, rejected) and an audit
trail of moves between states, in place of the rejected flag and its reason columns; trust flags
(submission_flag), photos' perceptual hashes (attachment.phash, photo_band) and branches'
opening hours.

Revision ID: d4a6b8c0e2f4
Revises: c3d5e7f9a1b2
Create Date: 2026-12-03 13:50:00

Data is kept: a rejected submission becomes ``rejected``, and its reason, time and author move
into an event (unless an event already says so). Downgrading folds pending and returned into
rejected, since the old schema had only "counts" and "does not".
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a6b8c0e2f4'
down_revision = 'c3d5e7f9a1b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('submission_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('from_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('to_state', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('snapshot', sa.JSON(), nullable=True))
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review', sa.Enum('counted', 'pending', 'returned', 'rejected',
                                                        name='reviewstate', native_enum=False, length=16),
                                      server_default='counted', nullable=False))
    op.execute("UPDATE submission SET review = 'rejected' WHERE rejected")
    # A legacy rejection whose event is missing keeps its reason, time and author as one.
    op.execute(
        "INSERT INTO submission_event (submission_id, user_id, action, reason, at, from_state, to_state) "
        "SELECT s.id, s.rejected_by_id, 'rejected', COALESCE(s.rejected_reason, ''), "
        "COALESCE(s.rejected_at, s.submitted_at), 'counted', 'rejected' FROM submission s "
        "WHERE s.rejected AND NOT EXISTS (SELECT 1 FROM submission_event e "
        "WHERE e.submission_id = s.id AND e.action = 'rejected')")
    op.execute("UPDATE submission_event SET from_state = 'counted', to_state = 'rejected' "
               "WHERE action = 'rejected' AND to_state IS NULL")
    op.execute("UPDATE submission_event SET from_state = 'rejected', to_state = 'counted' "
               "WHERE action = 'restored' AND to_state IS NULL")
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_rejected'))
        batch_op.drop_constraint(batch_op.f('fk_submission_rejected_by_id_user'), type_='foreignkey')
        batch_op.drop_column('rejected_by_id')
        batch_op.drop_column('rejected_at')
        batch_op.drop_column('rejected_reason')
        batch_op.drop_column('rejected')
        batch_op.create_index(batch_op.f('ix_submission_review'), ['review'], unique=False)
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opening_hours', sa.String(length=500), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phash', sa.String(length=16), nullable=True))
    op.create_table(
        'photo_band',
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.Column('band', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_photo_band_attachment_id_attachment'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('attachment_id', 'band', name=op.f('pk_photo_band')),
    )
    with op.batch_alter_table('photo_band', schema=None) as batch_op:
        batch_op.create_index('ix_photo_band_value', ['band', 'value'], unique=False)
    op.create_table(
        'submission_flag',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('submission_id', sa.Integer(), nullable=False),
        sa.Column('flag', sa.String(length=16), nullable=False),
        sa.Column('detail', sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(['submission_id'], ['submission.id'],
                                name=op.f('fk_submission_flag_submission_id_submission'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_flag')),
        sa.UniqueConstraint('submission_id', 'flag', name=op.f('uq_submission_flag_submission_id')),
    )
    with op.batch_alter_table('submission_flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_flag_flag'), ['flag'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_flag_submission_id'), ['submission_id'], unique=False)


def downgrade():
    op.drop_table('submission_flag')
    op.drop_table('photo_band')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('phash')
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_column('opening_hours')
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_review'))
        batch_op.add_column(sa.Column('rejected', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('rejected_reason', sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column('rejected_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('rejected_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_submission_rejected_by_id_user'), 'user',
                                    ['rejected_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_submission_rejected'), ['rejected'], unique=False)
    # Pending and returned visits did not count: the old schema says so only by rejecting them.
    op.execute("UPDATE submission SET rejected = true WHERE review <> 'counted'")
    op.execute(
        "UPDATE submission SET "
        "rejected_reason = (SELECT e.reason FROM submission_event e WHERE e.submission_id = submission.id "
        "ORDER BY e.id DESC LIMIT 1), "
        "rejected_at = (SELECT e.at FROM submission_event e WHERE e.submission_id = submission.id "
        "ORDER BY e.id DESC LIMIT 1), "
        "rejected_by_id = (SELECT e.user_id FROM submission_event e WHERE e.submission_id = submission.id "
        "ORDER BY e.id DESC LIMIT 1) WHERE rejected")
    op.execute("UPDATE submission SET rejected_reason = 'waiting for review' "
               "WHERE rejected AND (rejected_reason IS NULL OR rejected_reason = '')")
    with op.batch_alter_table('submission', schema=None) as batch_op:
        batch_op.drop_column('review')
    with op.batch_alter_table('submission_event', schema=None) as batch_op:
        batch_op.drop_column('snapshot')
        batch_op.drop_column('to_state')
        batch_op.drop_column('from_state')
