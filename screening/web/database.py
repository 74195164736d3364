"""Database engine set-up: SQLite tuned for several worker processes; patient page views that
read without waiting or round trips they do not need. And the maintenance both databases need
after a bulk load, an erasure or a daily purge, each step in one place.

Maintenance runs on a connection of its own, never in the request's or command's session: it
follows the work it tidies up, which must be committed first.
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import column, event, insert, table, text
from sqlalchemy.engine import Engine

from ..extensions import db
from ..models import SEARCH_TABLE

#: SQLite's FTS5 table of ``submission.search_text``, for its commands (``optimize``).
SEARCH_INDEX_COMMANDS = table(SEARCH_TABLE, column(SEARCH_TABLE))
#: PostgreSQL's trigram index of ``submission.search_text``.
SEARCH_INDEX_POSTGRESQL = "ix_submission_search_trgm"
#: Rows ANALYZE samples from each SQLite index: enough for the planner, and well under a
#: second at 100,000 submissions instead of a read of every index.
SQLITE_ANALYSIS_LIMIT = 1000

# Long enough to ride out a burst of writers from other workers, short enough to fail visibly.
SQLITE_BUSY_TIMEOUT_MS = 15_000


#: Requests that only read: the patient's page views (tests/test_database.py checks that
#: none of them writes).
READ_ONLY_BLUEPRINTS = frozenset({"intake"})
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})


def reads_only() -> bool:
    """True inside a request known never to write: its transaction may be a plain BEGIN."""
    return (
        has_request_context()
        and request.method in READ_ONLY_METHODS
        and request.blueprint in READ_ONLY_BLUEPRINTS
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, busy timeout, foreign keys, full sync, and BEGIN IMMEDIATE for every transaction
    that may write.

    A deferred transaction that reads and then writes in WAL mode fails at once with
    "database is locked" when another worker has written meanwhile; BEGIN IMMEDIATE takes
    the write lock up front and waits on busy_timeout instead. This is SQLAlchemy's
    documented pysqlite recipe (driver's own BEGIN disabled, ours emitted on "begin").

    The patient's page views never write, so they start with a plain (deferred) BEGIN: in WAL
    mode a reader neither takes nor waits for the write lock, so a page view no longer queues
    behind another worker's commit and fsync.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = FULL")
        # Deleted rows (submitted drafts, erased submissions) are overwritten, not left
        # readable in free pages of the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):  # type: ignore[no-untyped-def]
        connection.exec_driver_sql("BEGIN" if reads_only() else "BEGIN IMMEDIATE")


def _configure_postgresql(engine: Engine) -> None:
    """The patient's page views read without an explicit transaction (driver autocommit).

    Each of them reads one row with one SELECT, which is its own consistent snapshot, so the
    BEGIN and ROLLBACK around it were two extra round trips to the server on every page view.
    Everything else keeps a transaction.
    """

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection, record, _proxy):  # type: ignore[no-untyped-def]
        if reads_only():
            dbapi_connection.autocommit = True
            record.info["reads_only"] = True

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection, record):  # type: ignore[no-untyped-def]
        if record.info.pop("reads_only", False) and dbapi_connection is not None:
            dbapi_connection.autocommit = False


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            _configure_sqlite(engine)
        elif engine.dialect.name == "postgresql":
            _configure_postgresql(engine)


def _dialect() -> str:
    return db.engine.dialect.name


def compact_search_index() -> None:
    """The search index in its fastest form to read.

    SQLite: the FTS5 b-trees merged into one (every search reads each; batches of inserts
    leave a dozen), which also drops the trigrams of deleted rows kept in older ones.
    PostgreSQL: the GIN index takes in its pending entries (searches read them all); this
    needs the index's owner, as migrations do.
    """
    with db.engine.begin() as connection:
        if _dialect() == "sqlite":
            connection.execute(
                insert(SEARCH_INDEX_COMMANDS).values({SEARCH_TABLE: "optimize"})
            )
        else:
            connection.execute(
                text("SELECT gin_clean_pending_list(CAST(:index AS regclass))"),
                {"index": SEARCH_INDEX_POSTGRESQL},
            )


def refresh_statistics() -> None:
    """Fresh query planner statistics, after a bulk load or a day's changes.

    Without them SQLite guesses: it sorted 10,000 new submissions to show the dashboard's 50
    instead of walking the queue order. PostgreSQL's autovacuum analyses too, but only once
    enough rows have changed.
    """
    if _dialect() == "sqlite":
        # Outside any transaction (nothing to roll back); the limit is per connection.
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
            cursor.execute("ANALYZE")
        finally:
            connection.close()
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


def checkpoint_wal() -> bool:
    """On SQLite, copy the write-ahead log into the database and empty it; False if another
    connection's read kept it from finishing. Nothing to do on PostgreSQL.

    Until a checkpoint the log keeps the old versions of changed pages, deleted rows included.
    """
    if _dialect() != "sqlite":
        return True
    connection = db.engine.raw_connection()  # a checkpoint runs outside any transaction
    try:
        busy, _log_pages, _moved_pages = connection.cursor().execute(
            "PRAGMA wal_checkpoint(TRUNCATE)"
        ).fetchone()
    finally:
        connection.close()
    return busy == 0
