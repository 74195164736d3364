"""Exports: the CSV's text in pieces (rows from ``core.export_csv``) and the FHIR document.

The views audit each export with its filters and the exact number of rows sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, Row, Select, Text, and_, bindparam, cast, func, select
from sqlalchemy.orm import aliased

from ..core import export_csv, fhir
from ..core.instruments import by_key
from ..extensions import db
from ..models import Patient, QuestionnaireResponse, Submission
from ..questionnaires import intake_instruments
from .queries import Filters, conditions

BOM = "\ufeff"  # lets Excel read the file as UTF-8
LAYOUT_KEY = "screening.csv_layout"
EXPORT_BATCH = 1000


@dataclass
class Progress:
    """How far a streamed export got: rows handed over, and whether it reached the end."""

    rows: int = 0
    complete: bool = False


def filename(now: dt.datetime, deidentified: bool) -> str:
    kind = "deidentified" if deidentified else "submissions"
    return f"intake-{kind}-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}.csv"


def csv_layout() -> export_csv.CsvLayout:
    """The export's columns for this app's intake instruments (made once per app)."""
    found = current_app.extensions.get(LAYOUT_KEY)
    if found is None:
        found = current_app.extensions[LAYOUT_KEY] = export_csv.CsvLayout(intake_instruments())
    return found  # type: ignore[no-any-return]


def csv_chunks(filters: Filters, deidentified: bool, progress: Progress) -> Iterator[str]:
    """The CSV text, one piece per batch of rows, counting into ``progress`` as it goes."""
    layout = csv_layout()
    yield BOM + export_csv.text([layout.header(deidentified)])
    for batch in export_rows(filters, layout):
        # Counted before it is handed over: if the client leaves, the audit may name rows
        # that never arrived, never miss rows that did.
        progress.rows += len(batch)
        # Each row is the id the batches are keyed on, then the source fields.
        yield export_csv.text(layout.rows((r[1:] for r in batch), deidentified))
    progress.complete = True


def export_rows(filters: Filters, layout: export_csv.CsvLayout) -> Iterator[Sequence[Row[Any]]]:
    """Every matching submission as its id then its source values for ``layout`` (its own
    fields with its patient's, then each instrument's response), oldest first, in batches.

    Each batch is its own short transaction, keyed on the id: memory stays constant, and on
    SQLite (where every transaction takes the write lock, see ``web/database.py``) a slow
    download never holds up patients submitting meanwhile.
    """
    dialect = db.session.get_bind().dialect.name
    responses = _responses(layout)
    last_id = bindparam("last_id")
    # One statement for every batch: SQLAlchemy works out its cache key once, not per batch.
    statement = (
        _joined(select(Submission.id, *source_columns(dialect, responses)), responses, last_id)
        .where(*conditions(filters), Submission.id > last_id)
        .order_by(Submission.id)
        .limit(EXPORT_BATCH)
    )
    after = 0
    while True:
        # Core, not the ORM: these are plain values, and the ORM's row handling would cost
        # as much again as the query.
        batch = db.session.connection().execute(statement, {"last_id": after}).all()
        db.session.rollback()  # end the read-only transaction before handing rows out
        if not batch:
            return
        yield batch
        after = batch[-1][0]


def _responses(layout: export_csv.CsvLayout) -> list[tuple[str, Any]]:
    """Each instrument's key with the alias its intake response is joined under."""
    return [
        (instrument.key, aliased(QuestionnaireResponse, name=f"response_{instrument.key}"))
        for instrument in layout.instruments
    ]


def _joined(
    statement: Select[Any], responses: list[tuple[str, Any]], after: Any
) -> Select[Any]:
    """``statement`` from the submission, with its patient and ``responses`` joined, for the
    submissions whose id is over ``after``.

    The bound is repeated on each response's join, though it changes no result: PostgreSQL
    merge-joins a batch with the responses' index, and without it starts that index scan at
    the first submission's responses, every batch (at 100,000 rows the last batches read
    100,000 index entries each for 1,000 rows: ``bench/PROFILING.md``).
    """
    statement = statement.select_from(Submission).join(
        Patient, Patient.id == Submission.patient_id
    )
    for key, response in responses:
        statement = statement.outerjoin(response, and_(
            response.submission_id == Submission.id,
            response.instrument == key,
            response.submission_id > after,
        ))
    return statement


def source_columns(dialect: str, responses: list[tuple[str, Any]]) -> list[ColumnElement[Any]]:
    """The source values ``CsvLayout.row`` takes: the submission's fields (its patient's
    name, birth date, email and phone among them), then each of ``responses``' (joined by
    ``_joined``); the date, the times and the JSON as text.

    The database writes them: their stored forms differ between SQLite (text) and PostgreSQL
    (date, timestamp, json), and letting SQLAlchemy turn them into Python objects cost more
    CPU than the query itself (0.8 s per 100,000 rows on SQLite, ``bench/PROFILING.md``).
    """
    selected: list[ColumnElement[Any]] = []
    for name in export_csv.SUBMISSION_FIELDS:
        column = getattr(Submission if hasattr(Submission, name) else Patient, name)
        selected.append(_written(name, column, dialect))
    for _key, response in responses:
        for name in export_csv.RESPONSE_FIELDS:
            selected.append(_written(name, getattr(response, name), dialect))
    return selected


def _written(name: str, column: Any, dialect: str) -> ColumnElement[Any]:
    """``column`` as the CSV row takes it: as text when its stored form varies."""
    if name in export_csv.TIME_FIELDS:
        return _as_text(column, dialect, UTC_TIME_FORMATS)
    if name in export_csv.DATE_FIELDS:
        return _as_text(column, dialect, DATE_FORMATS)
    if name in export_csv.JSON_FIELDS:
        return cast(column, Text)
    return column  # type: ignore[no-any-return]


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
    """The intake as a FHIR R4 ``collection`` Bundle: the Patient, and a completed
    QuestionnaireResponse per questionnaire whose subject is that Patient."""
    person = submission.patient
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    responses = []
    for response in submission.responses:
        instrument = by_key(response.instrument)
        responses.append(fhir.questionnaire_response(
            instrument, response.answers, response.total, response.completed_at,
            questionnaire_url=fhir.questionnaire_url(instrument, base),
            subject_reference=f"Patient/{person.id}",  # set to the bundle's entry by bundle()
            identifier=submission.reference,
            language=response.language,
        ))
    patient = fhir.patient(
        person.first_name, person.last_name, person.date_of_birth,
        email=person.email, phone=person.phone,
    )
    return fhir.bundle(
        patient, responses, stable_key=submission.reference, identifier=submission.reference,
        timestamp=submission.submitted_at,
    )
