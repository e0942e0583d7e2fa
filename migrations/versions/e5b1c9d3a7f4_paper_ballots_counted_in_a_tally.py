"""how many of a count's ballots were on paper

Revision ID: e5b1c9d3a7f4
Revises: 18a0644ddc5c
Create Date: 2026-12-04 22:05:00.000000

A count (tallies) keeps how many of its ballots were entered from paper, so that the results
say "N ballots, of which P on paper" as they were counted, also when paper ballots are entered
after the count.

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e5b1c9d3a7f4'
down_revision = '18a0644ddc5c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('tallies', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('paper_ballot_count', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('tallies', schema=None) as batch_op:
        batch_op.drop_column('paper_ballot_count')
