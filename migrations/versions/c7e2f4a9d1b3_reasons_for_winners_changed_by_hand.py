"""a support consultation's winners changed by hand carry a public reason

Revision ID: c7e2f4a9d1b3
Revises: b3d5a1c0e7f2
Create Date: 2026-12-04 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c7e2f4a9d1b3'
down_revision = 'b3d5a1c0e7f2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'selection_override',
                sa.Enum('fund', 'drop', name='selection_override', native_enum=False,
                        create_constraint=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column('selection_override_reason', sa.String(length=500), nullable=True)
        )
        batch_op.create_check_constraint(
            'selection_override_has_reason',
            'selection_override IS NULL OR selection_override_reason IS NOT NULL',
        )


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint('selection_override_has_reason', type_='check')
        batch_op.drop_constraint('selection_override', type_='check')  # the enum's values
        batch_op.drop_column('selection_override_reason')
        batch_op.drop_column('selection_override')
