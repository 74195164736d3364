"""search index case-sensitive: SQLite's FTS5 trigrams no longer fold case

Both the stored ``search_text`` and the search words are lower-cased by Python before they
meet, so the trigram tokenizer's own Unicode case folding only added matches PostgreSQL's
``LIKE`` does not make: "ΣΊΣ" (lowered to "σίς") found "Σίσυφος", "str" found "ſtraße".
The FTS5 table is made again with ``case_sensitive 1`` (its triggers with it), and filled from
``submission``. The search asks it with ``MATCH``, which the option leaves indexed (FTS5's
``LIKE`` would then fall back to a scan; ``GLOB`` would use it).

PostgreSQL: nothing to do (``LIKE`` on ``pg_trgm`` is already exact).

Revision ID: 0b4ead974b47
Revises: 5076e20e8b25
Create Date: 2026-11-27 22:33:25

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0b4ead974b47'
down_revision = '5076e20e8b25'
branch_labels = None
depends_on = None

DROP = (
    "DROP TRIGGER submission_fts_update",
    "DROP TRIGGER submission_fts_delete",
    "DROP TRIGGER submission_fts_insert",
    "DROP TABLE submission_fts",
)


def _create(tokenize: str) -> tuple[str, ...]:
    """The FTS5 table over ``submission.search_text``, its triggers, and its rows indexed."""
    return (
        f"""
        CREATE VIRTUAL TABLE submission_fts USING fts5(
            search_text, content='submission', content_rowid='id', tokenize='{tokenize}'
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
        CREATE TRIGGER submission_fts_update AFTER UPDATE OF id, search_text ON submission
        BEGIN
            INSERT INTO submission_fts (submission_fts, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
            INSERT INTO submission_fts (rowid, search_text) VALUES (new.id, new.search_text);
        END
        """,
        "INSERT INTO submission_fts (submission_fts) VALUES ('rebuild')",
        "INSERT INTO submission_fts (submission_fts) VALUES ('optimize')",
    )


def _recreate(tokenize: str) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for statement in DROP + _create(tokenize):
        op.execute(statement)


def upgrade():
    _recreate('trigram case_sensitive 1')


def downgrade():
    _recreate('trigram')
