"""search by trigram index: pg_trgm GIN on PostgreSQL, an FTS5 trigram table on SQLite

The dashboard's search (every word a substring of ``search_text``) was a scan of 100,000
index entries, twice per page (the count, then the page). A trigram index answers
"contains this substring" for words of three letters or more, on both databases:

- PostgreSQL: a GIN index with ``gin_trgm_ops``, which ``LIKE '%word%'`` uses as it is.
  ``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database's owner may create it.
- SQLite (3.34+): an FTS5 table with the ``trigram`` tokenizer over ``submission.search_text``
  (external content: it stores only the index), kept in step by triggers on every insert,
  update and delete, the patient's erasure included.

Later migrations that recreate the ``submission`` table on SQLite (Alembic's batch "move
and copy") drop its triggers with it: create them again there
(``tests/test_dashboard_search.py`` fails if search falls out of step).

Revision ID: 848782f7f769
Revises: ee21095ebb00
Create Date: 2026-11-27 21:43:48

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '848782f7f769'
down_revision = 'ee21095ebb00'
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    """
    CREATE VIRTUAL TABLE submission_fts USING fts5(
        search_text, content='submission', content_rowid='id', tokenize='trigram'
    )
    """,
    """
    CREATE TRIGGER submission_fts_insert AFTER INSERT ON submission BEGIN
        INSERT INTO submission_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    # An external-content FTS5 table forgets a row only when told the values it indexed.
    """
    CREATE TRIGGER submission_fts_delete AFTER DELETE ON submission BEGIN
        INSERT INTO submission_fts (submission_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
    END
    """,
    """
    CREATE TRIGGER submission_fts_update AFTER UPDATE OF id, search_text ON submission BEGIN
        INSERT INTO submission_fts (submission_fts, rowid, search_text)
        VALUES ('delete', old.id, old.search_text);
        INSERT INTO submission_fts (rowid, search_text) VALUES (new.id, new.search_text);
    END
    """,
    # Index the rows already there, then merge the index into one b-tree (fastest to read).
    "INSERT INTO submission_fts (submission_fts) VALUES ('rebuild')",
    "INSERT INTO submission_fts (submission_fts) VALUES ('optimize')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER submission_fts_update",
    "DROP TRIGGER submission_fts_delete",
    "DROP TRIGGER submission_fts_insert",
    "DROP TABLE submission_fts",
)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index(
            'ix_submission_search_trgm', 'submission', ['search_text'], unique=False,
            postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'},
        )
    elif dialect == 'sqlite':
        for statement in SQLITE_UPGRADE:
            op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        # The extension stays: other objects in the database may use it.
        op.drop_index('ix_submission_search_trgm', table_name='submission',
                      postgresql_using='gin')
    elif dialect == 'sqlite':
        for statement in SQLITE_DOWNGRADE:
            op.execute(statement)
