"""The baseline: a bare Flask app that parses a form and inserts one row with SQLAlchemy.

The least any Flask app must do to take one intake step, so the ceiling the real app is
measured against: same gunicorn configuration, same database, same form bodies. On SQLite it
uses the app's durability settings (WAL, synchronous=FULL, busy_timeout), so the two do the
same work per write. ``bench/run.py`` creates its table before starting it.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, request
from sqlalchemy import JSON, Column, DateTime, Integer, MetaData, Table, create_engine, event
from sqlalchemy.engine import Engine

metadata = MetaData()
baseline_rows = Table(
    "bench_baseline",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("data", JSON, nullable=False),
    Column("created_at", DateTime, nullable=False),
)


def make_engine(url: str) -> Engine:
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 15000")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.close()

    return engine


def create_table(url: str) -> None:
    engine = make_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    app = Flask(__name__)
    engine = make_engine(os.environ["DATABASE_URL"])

    @app.post("/baseline")
    def baseline() -> tuple[str, int]:
        data = request.form.to_dict(flat=False)
        with engine.begin() as conn:
            conn.execute(baseline_rows.insert().values(
                data=data, created_at=dt.datetime.now(dt.UTC).replace(tzinfo=None)
            ))
        return "stored", 200

    return app


app = create_app() if "DATABASE_URL" in os.environ else None
