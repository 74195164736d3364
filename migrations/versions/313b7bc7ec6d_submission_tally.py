"""submission tally: how many submissions there are, kept by triggers

The dashboard's first page shows the total; counting it read every row of an index on every
page view (5 ms at 100,000 submissions on PostgreSQL, and growing with the table). This
one-row table holds the number instead, changed by triggers in the same transaction as the
insert or delete, so it is never out of date. PostgreSQL's triggers run once per statement
(a bulk insert adds its row count once); SQLite has only per-row triggers.

Later migrations that recreate the ``submission`` table on SQLite (Alembic's batch "move
and copy") drop its triggers with it: create them again there (``tests/test_dashboard.py``
fails if the total falls out of step).

Revision ID: 313b7bc7ec6d
Revises: 848782f7f769
Create Date: 2026-11-27 21:56:48

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '313b7bc7ec6d'
down_revision = '848782f7f769'
branch_labels = None
depends_on = None

CREATE_TABLE = (
    """
    CREATE TABLE submission_tally (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        submissions BIGINT NOT NULL
    )
    """,
    "INSERT INTO submission_tally (id, submissions) SELECT 1, count(*) FROM submission",
)
POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION submission_tally_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE submission_tally SET submissions = submissions + (SELECT count(*) FROM added);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION submission_tally_remove() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE submission_tally SET submissions = submissions - (SELECT count(*) FROM removed);
        RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION submission_tally_reset() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE submission_tally SET submissions = 0;
        RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER submission_tally_insert AFTER INSERT ON submission
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION submission_tally_add()
    """,
    """
    CREATE TRIGGER submission_tally_delete AFTER DELETE ON submission
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT
    EXECUTE FUNCTION submission_tally_remove()
    """,
    """
    CREATE TRIGGER submission_tally_truncate AFTER TRUNCATE ON submission
    FOR EACH STATEMENT EXECUTE FUNCTION submission_tally_reset()
    """,
)
SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER submission_tally_insert AFTER INSERT ON submission BEGIN
        UPDATE submission_tally SET submissions = submissions + 1;
    END
    """,
    """
    CREATE TRIGGER submission_tally_delete AFTER DELETE ON submission BEGIN
        UPDATE submission_tally SET submissions = submissions - 1;
    END
    """,
)


def upgrade():
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        # No submission may come or go between the count and the triggers (SQLite's single
        # writer is already alone here).
        op.execute('LOCK TABLE submission IN SHARE ROW EXCLUSIVE MODE')
    for statement in CREATE_TABLE + (POSTGRESQL_TRIGGERS if postgresql else SQLITE_TRIGGERS):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for event in ('insert', 'delete', 'truncate'):
            op.execute(f'DROP TRIGGER submission_tally_{event} ON submission')
        for step in ('add', 'remove', 'reset'):
            op.execute(f'DROP FUNCTION submission_tally_{step}()')
    else:
        for event in ('insert', 'delete'):
            op.execute(f'DROP TRIGGER submission_tally_{event}')
    op.execute('DROP TABLE submission_tally')
