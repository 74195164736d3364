"""CSV export rows from plain submission values: column names, cells, formula neutralising.

Pure: no flask, no sqlalchemy, no I/O. The phq9_/gad7_ columns come from the instrument
definitions, so a new question adds its column here without an edit. ``docs/export.md``
documents every column.

The export writes 100,000 rows in a few seconds (issue 6), so a row is one function call over
a tuple, with work only on the cells that need it: patient-typed text is neutralised, the
answers and code lists are decoded, flags become ``true``/``false``; numbers and the single
codes our own code stores (severity, fit, status) go through as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

import orjson

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

#: The submission fields a row is built from, in the order ``row`` takes them.
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
#: Source fields the database layer must hand over as text: ``date_of_birth`` as
#: ``YYYY-MM-DD``, the times in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (or None), the JSON fields as
#: their JSON text. Their stored forms differ between SQLite and PostgreSQL, so the query
#: writes them; everything else arrives as stored (a flag may be 0/1 rather than a bool).
DATE_FIELDS = ("date_of_birth",)
TIME_FIELDS = ("submitted_at", "acknowledged_at")
JSON_FIELDS = ("answers", "contraindications", "cautions")

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab, CR and LF,
# may shift it into one): OWASP's "CSV injection" list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
DEIDENTIFIED_COLUMNS = tuple(c for c in COLUMNS if c not in IDENTIFYING_COLUMNS)

_PHQ9_ITEMS = itemgetter(*(PHQ9.field(item) for item in PHQ9.items))
_GAD7_ITEMS = itemgetter(*(GAD7.field(item) for item in GAD7.items))
_SELF_HARM = PHQ9.field(PHQ9_SELF_HARM_ITEM)
_FLAG = ("false", "true")  # indexed by a bool, or by SQLite's 0/1
_DEIDENTIFY = itemgetter(*(COLUMNS.index(c) for c in DEIDENTIFIED_COLUMNS))


def columns(deidentified: bool = False) -> list[str]:
    """The header row; without the five identifying columns when ``deidentified``."""
    return list(DEIDENTIFIED_COLUMNS if deidentified else COLUMNS)


def neutralise(value: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula; other text is unchanged."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def codes(json_list: str) -> str:
    """A stored JSON list of codes as one cell: ``a;b``, empty when there are none."""
    if json_list == "[]":  # most submissions: skip the decoder
        return ""
    return neutralise(";".join(orjson.loads(json_list)))


def row(source: Sequence[Any]) -> tuple[Any, ...]:
    """The cells of one submission, in ``COLUMNS`` order, from its ``SOURCE_FIELDS`` values.

    None is left for the CSV writer, which writes it as an empty field.
    """
    (reference, submitted_at, first_name, last_name, date_of_birth, email, phone, answers_json,
     phq9_total, phq9_severity, phq9_difficulty, gad7_total, gad7_severity,
     adequate_failed_trials, contraindications, cautions, fit, urgent, needs_medical_review,
     ruleset, review_status, acknowledged_at) = source
    answers = orjson.loads(answers_json)
    return (
        # Only patient-typed text can start a formula: the reference, the codes and the
        # numbers come from our own code.
        reference, submitted_at, neutralise(first_name), neutralise(last_name), date_of_birth,
        neutralise(email), neutralise(phone),
        *_PHQ9_ITEMS(answers), phq9_total, phq9_severity, phq9_difficulty,
        _FLAG[answers[_SELF_HARM] >= 1],
        *_GAD7_ITEMS(answers), gad7_total, gad7_severity,
        adequate_failed_trials, codes(contraindications), codes(cautions),
        fit, _FLAG[urgent], _FLAG[needs_medical_review], ruleset, review_status, acknowledged_at,
    )


def rows(sources: Iterable[Sequence[Any]], deidentified: bool = False) -> Iterator[tuple[Any, ...]]:
    """``row`` of each source, without the identifying columns when ``deidentified``."""
    built = map(row, sources)
    return map(_DEIDENTIFY, built) if deidentified else built


def text(cell_rows: Iterable[Sequence[Any]]) -> str:
    """RFC 4180 text of ``cell_rows``: CRLF line ends, fields quoted where needed."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(cell_rows)
    return buffer.getvalue()
