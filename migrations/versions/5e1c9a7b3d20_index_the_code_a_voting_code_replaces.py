"""index the code a voting code replaces

Revision ID: 5e1c9a7b3d20
Revises: e5b1c9d3a7f4
Create Date: 2026-12-04 22:10:00

Deleting a voting code (a consultation's tens of thousands, or the test suite emptying the
table) looks up the codes that name it in replaces_id; without an index that is one scan of
the table per deleted code.

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5e1c9a7b3d20'
down_revision = 'e5b1c9d3a7f4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('voting_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voting_codes_replaces_id'), ['replaces_id'], unique=False)


def downgrade():
    with op.batch_alter_table('voting_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voting_codes_replaces_id'))
