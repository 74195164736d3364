"""status and fit index ordered by PHQ-9 total

"Likely fits not yet reviewed, highest PHQ-9 first" read the ~1,600 matching rows at
100,000 submissions to sort them (4-5 ms); with the PHQ-9 total last in the status and fit
index, the page is the first 50 entries of the index. Counts by status, or by status and fit,
read the same index as before.

Revision ID: 1d2951d45a51
Revises: 313b7bc7ec6d
Create Date: 2026-11-27 22:02:19

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '1d2951d45a51'
down_revision = '313b7bc7ec6d'
branch_labels = None
depends_on = None


# Plain index operations, not a batch: on SQLite a batch may recreate the table, and with it
# lose the triggers that keep search and the tally in step.
def upgrade():
    op.create_index('ix_submission_status_fit_phq9', 'submission',
                    ['review_status', 'fit', 'phq9_total'], unique=False)
    op.drop_index('ix_submission_status_fit', table_name='submission')


def downgrade():
    op.create_index('ix_submission_status_fit', 'submission', ['review_status', 'fit'],
                    unique=False)
    op.drop_index('ix_submission_status_fit_phq9', table_name='submission')
