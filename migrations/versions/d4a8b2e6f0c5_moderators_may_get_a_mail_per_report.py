"""moderators may ask for a mail whenever somebody reports content

Revision ID: d4a8b2e6f0c5
Revises: c7e2f4a9d1b3
Create Date: 2026-12-04 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4a8b2e6f0c5'
down_revision = 'c7e2f4a9d1b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('mail_on_report', sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table('notification_settings', schema=None) as batch_op:
        batch_op.drop_column('mail_on_report')
