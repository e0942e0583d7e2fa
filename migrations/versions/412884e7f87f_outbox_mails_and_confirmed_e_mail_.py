"""outbox mails and confirmed e-mail addresses

Every account that exists before this migration counts as confirmed (since it was created),
so upgrading an installation locks nobody out; only accounts registered afterwards confirm
their address through the link in their mail.

Revision ID: 412884e7f87f
Revises: 5dfef2e145ae
Create Date: 2026-11-23 14:24:01.603086

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '412884e7f87f'
down_revision = '5dfef2e145ae'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outbox_mails',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('recipient', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.CheckConstraint('attempts >= 0', name=op.f('ck_outbox_mails_attempts_not_negative')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_outbox_mails_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_mails')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_outbox_mails_idempotency_key'))
    )
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_mails_due', ['sent_at', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbox_mails_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(timezone=True), nullable=True))

    users = sa.table(
        'users',
        sa.column('created_at', sa.DateTime(timezone=True)),
        sa.column('email_confirmed_at', sa.DateTime(timezone=True)),
    )
    op.execute(
        users.update()
        .where(users.c.email_confirmed_at.is_(None))
        .values(email_confirmed_at=users.c.created_at)
    )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')

    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_mails_user_id'))
        batch_op.drop_index('ix_outbox_mails_due')

    op.drop_table('outbox_mails')
