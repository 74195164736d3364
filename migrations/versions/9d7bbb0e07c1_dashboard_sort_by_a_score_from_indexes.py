"""dashboard sort by a score from indexes: the response's total beside its key, the id in the
status and fit index

The dashboard sorts by an instrument's total by joining each submission's response under an
alias. "Likely fits not yet reviewed, highest PHQ-9 first" at 100,000 submissions joins the
~1,600 matching submissions to their PHQ-9 responses and sorts them. With the total in an
index beside (submission_id, instrument), each join is an index-only look-up instead of a
read of the response row (SQLite: 6.0 -> 1.8 ms for that query); with the id at the end of
the status and fit index, PostgreSQL reads the matching submissions from the index alone,
and picks a plain nested loop of index-only scans (4-6 ms) instead of a parallel plan or a
hash join over every response (21-83 ms, bench/PROFILING.md). SQLite keeps the id (its
rowid) in every index already.

Revision ID: 9d7bbb0e07c1
Revises: a932ffc8690e
Create Date: 2026-12-01 23:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '9d7bbb0e07c1'
down_revision = 'a932ffc8690e'
branch_labels = None
depends_on = None


# Plain index operations, not a batch: on SQLite a batch may recreate the table, and with it
# lose the triggers that keep search and the tally in step.
def upgrade():
    op.create_index('ix_response_submission_total', 'questionnaire_response',
                    ['submission_id', 'instrument', 'total'], unique=False)
    op.drop_index('ix_submission_status_fit', table_name='submission')
    op.create_index('ix_submission_status_fit', 'submission',
                    ['review_status', 'fit', 'submitted_at', 'id'], unique=False)


def downgrade():
    op.drop_index('ix_submission_status_fit', table_name='submission')
    op.create_index('ix_submission_status_fit', 'submission',
                    ['review_status', 'fit', 'submitted_at'], unique=False)
    op.drop_index('ix_response_submission_total', table_name='questionnaire_response')
