"""queue index includes the id

The dashboard's default order is ``awaiting_ack DESC, submitted_at DESC, id DESC``. With the
id in ``ix_submission_queue`` PostgreSQL reads a page's ids from the index alone (the last
page at 100,000 submissions: a sort of the whole table, 380 ms, becomes an index-only scan).
SQLite's indexes end with the rowid already: the same order, nothing to gain or lose there.

Revision ID: 5076e20e8b25
Revises: 1d2951d45a51
Create Date: 2026-11-27 22:03:49

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5076e20e8b25'
down_revision = '1d2951d45a51'
branch_labels = None
depends_on = None


# Plain index operations, not a batch: on SQLite a batch may recreate the table, and with it
# lose the triggers that keep search and the tally in step.
def upgrade():
    op.drop_index('ix_submission_queue', table_name='submission')
    op.create_index('ix_submission_queue', 'submission', ['awaiting_ack', 'submitted_at', 'id'],
                    unique=False)


def downgrade():
    op.drop_index('ix_submission_queue', table_name='submission')
    op.create_index('ix_submission_queue', 'submission', ['awaiting_ack', 'submitted_at'],
                    unique=False)
