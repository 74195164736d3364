"""Sending exports: the streamed CSV (rows from ``core.export_csv``) and the FHIR document.

Each export is audited with its filters and the exact number of rows sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, select

from .. import audit
from ..core import export_csv, fhir
from ..extensions import db
from ..models import Submission
from .queries import Filters, conditions

BOM = "\ufeff"  # lets Excel read the file as UTF-8
CHUNK_SIZE = 64 * 1024
EXPORT_BATCH = 1000


@dataclass(frozen=True)
class Actor:
    """Who asked for an export, as plain values: the streamed body outlives the request's
    database session, so the signed-in User object can no longer be read by then."""

    id: int
    email: str


def filename(now: dt.datetime, deidentified: bool) -> str:
    kind = "deidentified" if deidentified else "submissions"
    return f"intake-{kind}-{now.astimezone(dt.UTC):%Y%m%d-%H%M%S}.csv"


def csv_chunks(filters: Filters, deidentified: bool, actor: Actor) -> Iterator[str]:
    """The CSV text in pieces of about 64 KB; audited once the last row is out (or the
    client left), with the number of rows sent."""
    count = 0
    complete = False

    def rows() -> Iterator[list[str | int]]:
        nonlocal count
        yield export_csv.columns(deidentified)
        for row in export_rows(filters, export_csv.SOURCE_FIELDS):
            count += 1
            yield export_csv.row(row._asdict(), deidentified)

    try:
        pending = [BOM]
        size = 0
        for line in export_csv.encode(rows()):
            pending.append(line)
            size += len(line)
            if size >= CHUNK_SIZE:
                yield "".join(pending)
                pending, size = [], 0
        yield "".join(pending)
        complete = True
    finally:
        db.session.rollback()
        audit.record(
            "export_csv",
            user=actor,
            filters=filters.audit_details(),
            deidentified=deidentified,
            rows=count,
            complete=complete,
        )
        db.session.commit()


def export_rows(filters: Filters, fields: Sequence[str]) -> Iterator[Row[Any]]:
    """Every matching submission's ``fields``, oldest first, fetched in batches.

    Each batch is its own short transaction, keyed on the id: memory stays constant, and on
    SQLite (where every transaction takes the write lock, see ``database.py``) a slow
    download never holds up patients submitting meanwhile.
    """
    columns = [getattr(Submission, name) for name in fields]
    where = conditions(filters)
    last_id = 0
    while True:
        batch = db.session.execute(
            select(Submission.id, *columns)
            .where(*where, Submission.id > last_id)
            .order_by(Submission.id)
            .limit(EXPORT_BATCH)
        ).all()
        db.session.rollback()  # end the read-only transaction before handing rows out
        if not batch:
            return
        yield from batch
        last_id = batch[-1].id


def fhir_document(submission: Submission) -> dict[str, Any]:
    """The submission's FHIR QuestionnaireResponse; audited as an export."""
    document = fhir.questionnaire_response(
        submission.reference, submission.submitted_at, submission.answers,
        submission.phq9_difficulty,
    )
    audit.record("export_fhir", submission.reference)
    db.session.commit()
    return document
