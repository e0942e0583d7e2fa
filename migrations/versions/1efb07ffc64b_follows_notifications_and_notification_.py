"""follows, notifications and notification settings

Authors follow their own proposals from now on; so that upgrading treats earlier proposals
alike, their authors (unless their account was deleted) follow them as well.

Revision ID: 1efb07ffc64b
Revises: 5c8afd0f48af
Create Date: 2026-11-23 15:08:21.357796

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1efb07ffc64b'
down_revision = '5c8afd0f48af'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notification_settings',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_frequency', sa.Enum('none', 'immediate', 'daily', name='email_frequency', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_settings_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_settings'))
    )
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notification_settings_email_frequency'), ['email_frequency'], unique=False)

    op.create_table('follows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('(proposal_id IS NULL) <> (consultation_id IS NULL)', name=op.f('ck_follows_exactly_one_subject')),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_follows_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_follows_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
    sa.UniqueConstraint('consultation_id', 'user_id', name=op.f('uq_follows_consultation_id_user_id')),
    sa.UniqueConstraint('proposal_id', 'user_id', name=op.f('uq_follows_proposal_id_user_id'))
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_user_id'), ['user_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('comment', 'reply', 'answer', 'hidden', 'promoted', 'initiative_update', 'phase', name='notification_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('initiative_id', sa.Integer(), nullable=True),
    sa.Column('initiative_update_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_notifications_comment_id_comments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_notifications_consultation_id_consultations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['initiative_id'], ['initiatives.id'], name=op.f('fk_notifications_initiative_id_initiatives'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['initiative_update_id'], ['initiative_updates.id'], name=op.f('fk_notifications_initiative_update_id_initiative_updates'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_notifications_proposal_id_proposals'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_comment_id'), ['comment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_consultation_id'), ['consultation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_initiative_id'), ['initiative_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_initiative_update_id'), ['initiative_update_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index('ix_notifications_recipient_created', ['recipient_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notifications_recipient_read', ['recipient_id', 'read_at'], unique=False)

    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unsubscribe_url', sa.Text(), nullable=True))

    proposals = sa.table(
        'proposals', sa.column('id', sa.Integer()), sa.column('author_id', sa.Integer())
    )
    users = sa.table(
        'users', sa.column('id', sa.Integer()), sa.column('deleted_at', sa.DateTime(timezone=True))
    )
    follows = sa.table(
        'follows',
        sa.column('user_id', sa.Integer()),
        sa.column('proposal_id', sa.Integer()),
        sa.column('created_at', sa.DateTime(timezone=True)),
    )
    op.execute(
        follows.insert().from_select(
            ['user_id', 'proposal_id', 'created_at'],
            sa.select(proposals.c.author_id, proposals.c.id, sa.func.current_timestamp())
            .join(users, users.c.id == proposals.c.author_id)
            .where(users.c.deleted_at.is_(None)),
        )
    )



def downgrade():
    with op.batch_alter_table('outbox_mails', schema=None) as batch_op:
        batch_op.drop_column('unsubscribe_url')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_read')
        batch_op.drop_index('ix_notifications_recipient_created')
        batch_op.drop_index(batch_op.f('ix_notifications_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_initiative_update_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_initiative_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_consultation_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_comment_id'))

    op.drop_table('notifications')
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follows_user_id'))

    op.drop_table('follows')
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notification_settings_email_frequency'))

    op.drop_table('notification_settings')
