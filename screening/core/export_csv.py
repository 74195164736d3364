"""CSV export rows from plain submission data: column names, cell values, formula neutralising.

Pure: no flask, no sqlalchemy, no I/O. The phq9_/gad7_ columns come from the instrument
definitions, so a new question adds its column here without an edit. ``docs/export.md``
documents every column.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from .instruments import GAD7, PHQ9, PHQ9_DIFFICULTY_FIELD, PHQ9_SELF_HARM_ITEM

IDENTIFYING_COLUMNS = ("first_name", "last_name", "date_of_birth", "email", "phone")

#: Every column, in export order.
COLUMNS: tuple[str, ...] = (
    "reference",
    "submitted_at",
    *IDENTIFYING_COLUMNS,
    *(PHQ9.field(item) for item in PHQ9.items),
    "phq9_total",
    "phq9_severity",
    PHQ9_DIFFICULTY_FIELD,
    "phq9_item9_positive",
    *(GAD7.field(item) for item in GAD7.items),
    "gad7_total",
    "gad7_severity",
    "adequate_failed_trials",
    "contraindications",
    "cautions",
    "fit",
    "urgent",
    "needs_medical_review",
    "ruleset",
    "review_status",
    "acknowledged_at",
)

#: The submission fields a row is built from (``answers`` holds the phq9_/gad7_ items).
SOURCE_FIELDS: tuple[str, ...] = (
    "reference",
    "submitted_at",
    *IDENTIFYING_COLUMNS,
    "answers",
    "phq9_total",
    "phq9_severity",
    "phq9_difficulty",
    "gad7_total",
    "gad7_severity",
    "adequate_failed_trials",
    "contraindications",
    "cautions",
    "fit",
    "urgent",
    "needs_medical_review",
    "ruleset",
    "review_status",
    "acknowledged_at",
)

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab, CR and LF,
# may shift it into one): OWASP's "CSV injection" list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
DEIDENTIFIED_COLUMNS = tuple(c for c in COLUMNS if c not in IDENTIFYING_COLUMNS)


def columns(deidentified: bool = False) -> list[str]:
    """The header row; without the five identifying columns when ``deidentified``."""
    return list(DEIDENTIFIED_COLUMNS if deidentified else COLUMNS)


def neutralise(value: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula; other text is unchanged."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def cell(value: Any) -> str | int:
    """One value as written: numbers as numbers, booleans ``true``/``false``, times in UTC."""
    kind = type(value)  # exact types first: this runs for every cell of every row
    if kind is int:
        return value  # type: ignore[no-any-return]
    if kind is str:
        return neutralise(value)
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in export; submissions store aware UTC times")
        return value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(v) for v in value))
    if isinstance(value, int):
        return int(value)
    return neutralise(str(value))


def row(submission: Mapping[str, Any], deidentified: bool = False) -> list[str | int]:
    """The cells of one submission, in ``columns(deidentified)`` order."""
    values = dict(submission)
    values.update(submission["answers"])
    values["phq9_item9_positive"] = values[PHQ9.field(PHQ9_SELF_HARM_ITEM)] >= 1
    return [cell(values[name]) for name in (DEIDENTIFIED_COLUMNS if deidentified else COLUMNS)]


def encode(rows: Iterable[Sequence[str | int]]) -> Iterator[str]:
    """RFC 4180 text (CRLF line ends, quoting as needed), one chunk per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for cells in rows:
        writer.writerow(cells)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
