"""Database engine set-up: SQLite tuned for several worker processes; patient page views that
read without waiting or round trips they do not need."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from .extensions import db

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
