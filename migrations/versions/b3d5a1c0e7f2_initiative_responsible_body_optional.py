"""an initiative's responsible body may be left open

Promoting all funded projects without naming a body stored the placeholder "Wird noch
zugewiesen" (or "To be assigned") as if it were a body; it is now stored as nothing, and the
pages show the placeholder in the reader's language.

Revision ID: b3d5a1c0e7f2
Revises: 2a5e84fae6b5
Create Date: 2026-12-04 19:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d5a1c0e7f2'
down_revision = '2a5e84fae6b5'
branch_labels = None
depends_on = None

PLACEHOLDERS = ('Wird noch zugewiesen', 'To be assigned')
initiatives = sa.table('initiatives', sa.column('responsible_body', sa.String))


def upgrade():
    with op.batch_alter_table('initiatives', schema=None) as batch_op:
        batch_op.alter_column(
            'responsible_body', existing_type=sa.String(length=200), nullable=True
        )
    op.execute(
        initiatives.update()
        .where(initiatives.c.responsible_body.in_(PLACEHOLDERS))
        .values(responsible_body=None)
    )


def downgrade():
    op.execute(
        initiatives.update()
        .where(initiatives.c.responsible_body.is_(None))
        .values(responsible_body=PLACEHOLDERS[0])
    )
    with op.batch_alter_table('initiatives', schema=None) as batch_op:
        batch_op.alter_column(
            'responsible_body', existing_type=sa.String(length=200), nullable=False
        )
