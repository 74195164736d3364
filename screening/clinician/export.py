"""Exports: the CSV's text in pieces (rows from ``core.export_csv``) and the FHIR document.

The views audit each export with its filters and the exact number of rows sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, Text, bindparam, cast, func, select

from ..core import export_csv, fhir
from ..extensions import db
from ..models import Submission
from .queries import Filters, conditions

BOM = "\ufeff"  # lets Excel read the file as UTF-8
EXPORT_BATCH = 1000


@dataclass
class Progress:
    """How far a streamed export got: rows handed over, and whether it reached the end."""

    rows: int = 0
    complete: bool = False


def filename(now: dt.datetime, deidentified: bool) -> str:
    kind = "deidentified" if deidentified else "submissions"
    return f"intake-{kind}-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}.csv"


def csv_chunks(filters: Filters, deidentified: bool, progress: Progress) -> Iterator[str]:
    """The CSV text, one piece per batch of rows, counting into ``progress`` as it goes."""
    yield BOM + export_csv.text([export_csv.columns(deidentified)])
    for batch in export_rows(filters):
        # Counted before it is handed over: if the client leaves, the audit may name rows
        # that never arrived, never miss rows that did.
        progress.rows += len(batch)
        # Each row is the id the batches are keyed on, then the source fields.
        yield export_csv.text(export_csv.rows((r[1:] for r in batch), deidentified))
    progress.complete = True


def export_rows(filters: Filters) -> Iterator[Sequence[Row[Any]]]:
    """Every matching submission as its id then its ``export_csv.SOURCE_FIELDS``, oldest
    first, in batches.

    Each batch is its own short transaction, keyed on the id: memory stays constant, and on
    SQLite (where every transaction takes the write lock, see ``database.py``) a slow
    download never holds up patients submitting meanwhile.
    """
    dialect = db.session.get_bind().dialect.name
    # One statement for every batch: SQLAlchemy works out its cache key once, not per batch.
    statement = (
        select(Submission.id, *source_columns(dialect))
        .where(*conditions(filters), Submission.id > bindparam("last_id"))
        .order_by(Submission.id)
        .limit(EXPORT_BATCH)
    )
    last_id = 0
    while True:
        # Core, not the ORM: these are plain values, and the ORM's row handling would cost
        # as much again as the query.
        batch = db.session.connection().execute(statement, {"last_id": last_id}).all()
        db.session.rollback()  # end the read-only transaction before handing rows out
        if not batch:
            return
        yield batch
        last_id = batch[-1][0]


def source_columns(dialect: str) -> list[ColumnElement[Any]]:
    """``export_csv.SOURCE_FIELDS`` as ``export_csv.row`` takes them: the date, the times and
    the JSON fields as text.

    The database writes them: their stored forms differ between SQLite (text) and PostgreSQL
    (date, timestamp, json), and letting SQLAlchemy turn them into Python objects cost more
    CPU than the query itself (0.8 s per 100,000 rows on SQLite, ``bench/PROFILING.md``).
    """
    selected: list[ColumnElement[Any]] = []
    for name in export_csv.SOURCE_FIELDS:
        column = getattr(Submission, name)
        if name in export_csv.TIME_FIELDS:
            selected.append(_as_text(column, dialect, UTC_TIME_FORMATS))
        elif name in export_csv.DATE_FIELDS:
            selected.append(_as_text(column, dialect, DATE_FORMATS))
        elif name in export_csv.JSON_FIELDS:
            selected.append(cast(column, Text))
        else:
            selected.append(column)
    return selected


# (SQLite strftime, PostgreSQL to_char) formats. Times are stored as naive UTC
# (``extensions.UTCDateTime``), so the Z written after them is true.
UTC_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%SZ", 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
DATE_FORMATS = ("%Y-%m-%d", "YYYY-MM-DD")


def _as_text(column: Any, dialect: str, formats: tuple[str, str]) -> ColumnElement[str]:
    sqlite_format, postgresql_format = formats
    if dialect == "sqlite":
        return func.strftime(sqlite_format, column)
    return func.to_char(column, postgresql_format)


def fhir_document(submission: Submission) -> dict[str, Any]:
    """The submission's FHIR QuestionnaireResponse."""
    return fhir.questionnaire_response(
        submission.reference, submission.submitted_at, submission.answers,
        submission.phq9_difficulty,
    )
