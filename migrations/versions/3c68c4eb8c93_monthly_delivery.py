"""monthly_delivery: batches of report PDFs made by the background worker, each manager's monthly
e-mail of them, HQ's delivery settings, and a manager's own "no monthly e-mail" choice.

Revision ID: 3c68c4eb8c93
Revises: b1bc0b444439
Create Date: 2026-12-03 17:20:00

New tables, and one column on ``user`` that starts true for every account (the delivery is on
unless a manager turns it off); nothing existing is lost.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c68c4eb8c93'
down_revision = 'b1bc0b444439'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('monthly_delivery', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.create_table(
        'delivery_settings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('day', sa.Integer(), nullable=False),
        sa.Column('attach_limit_kb', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=16), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_settings')),
    )
    op.create_table(
        'report_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('origin', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_batch')),
    )
    op.create_table(
        'batch_pdf',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('region_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('due', 'making', 'done', 'failed', name='pdfstate', native_enum=False, length=16),
                  nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('queued_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('made_at', sa.DateTime(), nullable=True),
        sa.Column('stored_name', sa.String(length=200), nullable=True),
        sa.Column('filename', sa.String(length=200), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(['batch_id'], ['report_batch.id'], name=op.f('fk_batch_pdf_batch_id_report_batch'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['region_id'], ['region.id'], name=op.f('fk_batch_pdf_region_id_region'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_pdf')),
        sa.UniqueConstraint('batch_id', 'kind', 'code', name=op.f('uq_batch_pdf_batch_id')),
    )
    op.create_index('ix_batch_pdf_batch_state', 'batch_pdf', ['batch_id', 'state'], unique=False)
    op.create_index(op.f('ix_batch_pdf_region_id'), 'batch_pdf', ['region_id'], unique=False)
    op.create_table(
        'delivery_mail',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('batch_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.Enum('waiting', 'pending', 'sending', 'sent', 'failed', 'unknown', name='mailstate',
                                   native_enum=False, length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('linked', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['batch_id'], ['report_batch.id'],
                                name=op.f('fk_delivery_mail_batch_id_report_batch'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_delivery_mail_user_id_user'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_mail')),
        sa.UniqueConstraint('batch_id', 'user_id', name=op.f('uq_delivery_mail_batch_id')),
    )
    op.create_index('ix_delivery_mail_state_next', 'delivery_mail', ['state', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_delivery_mail_user_id'), 'delivery_mail', ['user_id'], unique=False)
    op.create_table(
        'delivery_mail_pdf',
        sa.Column('mail_id', sa.Integer(), nullable=False),
        sa.Column('pdf_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['mail_id'], ['delivery_mail.id'],
                                name=op.f('fk_delivery_mail_pdf_mail_id_delivery_mail'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['pdf_id'], ['batch_pdf.id'], name=op.f('fk_delivery_mail_pdf_pdf_id_batch_pdf'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('mail_id', 'pdf_id', name=op.f('pk_delivery_mail_pdf')),
    )
    op.create_index(op.f('ix_delivery_mail_pdf_pdf_id'), 'delivery_mail_pdf', ['pdf_id'], unique=False)


def downgrade():
    op.drop_table('delivery_mail_pdf')
    op.drop_table('delivery_mail')
    op.drop_table('batch_pdf')
    op.drop_table('report_batch')
    op.drop_table('delivery_settings')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('monthly_delivery')
