"""CSV export rows from plain submission values: column names, cells, formula neutralising.

Pure: no flask, no sqlalchemy, no I/O. Each instrument's columns come from its definition,
so a new instrument or question adds its columns with no edit here. ``docs/export.md``
documents every column.

The export writes 100,000 rows in a few seconds (issue 6), so a row is one call over a flat
tuple (and one more per instrument's response), with work only on the cells that need it:
patient-typed text is neutralised, the answers and code lists are decoded, flags become
``true``/``false``; numbers and the single codes our own code stores (band, fit, status) go
through as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cache
from operator import itemgetter
from typing import Any

import orjson

from .instruments import INSTRUMENTS, INTAKE_INSTRUMENTS, Instrument

IDENTIFYING_COLUMNS = ("first_name", "last_name", "date_of_birth", "email", "phone")
#: The submission's own columns before the instruments' columns, and after them.
LEADING_COLUMNS = ("reference", "submitted_at", *IDENTIFYING_COLUMNS)
TRAILING_COLUMNS = (
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

#: The submission fields a row starts with, in the order ``row`` takes them.
SUBMISSION_FIELDS: tuple[str, ...] = LEADING_COLUMNS + TRAILING_COLUMNS
#: Then, for each instrument in order, these fields of its stored response (all None when
#: there is no response): answers keyed by item key as JSON, total, band code.
RESPONSE_FIELDS = ("answers", "total", "band")
#: Fields the database layer must hand over as text: ``date_of_birth`` as ``YYYY-MM-DD``, the
#: times in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (or None), the JSON fields (of the submission and
#: of a response) as their JSON text. Their stored forms differ between SQLite and PostgreSQL,
#: so the query writes them; everything else arrives as stored (a flag may be 0/1).
DATE_FIELDS = ("date_of_birth",)
TIME_FIELDS = ("submitted_at", "acknowledged_at")
JSON_FIELDS = ("contraindications", "cautions", "answers")

# A spreadsheet reads a cell starting with one of these as a formula (or, for tab, CR and LF,
# may shift it into one): OWASP's "CSV injection" list.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")
_FLAG = ("false", "true")  # indexed by a bool, or by SQLite's 0/1

ResponseCells = Callable[[Any, Any, Any], tuple[Any, ...]]


def neutralise(value: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula; other text is unchanged."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def codes(json_list: str) -> str:
    """A stored JSON list of codes as one cell: ``a;b``, empty when there are none."""
    if json_list == "[]":  # most submissions: skip the decoder
        return ""
    return neutralise(";".join(orjson.loads(json_list)))


def instrument_columns(instrument: Instrument) -> tuple[str, ...]:
    """An instrument's columns: scored items, total, band, unscored items, alert."""
    alert = (instrument.alert.column,) if instrument.alert else ()
    return (
        *(instrument.field(item) for item in instrument.scored_items),
        f"{instrument.key}_total",
        f"{instrument.key}_severity",
        *(instrument.field(item) for item in instrument.unscored_items),
        *alert,
    )


def _response_cells(instrument: Instrument) -> ResponseCells:
    """The cell builder of one instrument's ``RESPONSE_FIELDS``, in ``instrument_columns`` order."""
    scored_keys = [item.key for item in instrument.scored_items]
    scored: Callable[[dict[str, Any]], tuple[Any, ...]] = (
        itemgetter(*scored_keys) if len(scored_keys) > 1 else lambda a: (a[scored_keys[0]],)
    )
    unscored_keys = [item.key for item in instrument.unscored_items]
    rule = instrument.alert
    alert_key, minimum = (rule.item_key, rule.minimum) if rule else (None, 0)
    empty = (None,) * len(instrument_columns(instrument))
    loads = orjson.loads

    def cells(answers_json: Any, total: Any, band: Any) -> tuple[Any, ...]:
        if answers_json is None:  # no response to this instrument
            return empty
        answers = loads(answers_json)
        values = scored(answers) + (total, band)
        if unscored_keys:  # an unanswered optional item is absent: None, an empty cell
            values += tuple(map(answers.get, unscored_keys))
        if alert_key is not None:
            values += (_FLAG[answers[alert_key] >= minimum],)
        return values

    return cells


class CsvLayout:
    """The columns and rows of the export for one list of instruments, in that order."""

    def __init__(self, instruments: Sequence[Instrument]) -> None:
        self.instruments = tuple(instruments)
        self.columns: tuple[str, ...] = (
            *LEADING_COLUMNS,
            *(c for i in self.instruments for c in instrument_columns(i)),
            *TRAILING_COLUMNS,
        )
        self.deidentified_columns = tuple(
            c for c in self.columns if c not in IDENTIFYING_COLUMNS
        )
        self.source_width = len(SUBMISSION_FIELDS) + len(RESPONSE_FIELDS) * len(self.instruments)
        self._builders = tuple(
            (_response_cells(instrument), len(SUBMISSION_FIELDS) + len(RESPONSE_FIELDS) * n)
            for n, instrument in enumerate(self.instruments)
        )
        self._deidentify = itemgetter(
            *(self.columns.index(c) for c in self.deidentified_columns)
        )

    def header(self, deidentified: bool = False) -> list[str]:
        """The header row; without the five identifying columns when ``deidentified``."""
        return list(self.deidentified_columns if deidentified else self.columns)

    def row(self, source: Sequence[Any]) -> tuple[Any, ...]:
        """The cells of one submission, in ``columns`` order, from its source values:
        ``SUBMISSION_FIELDS``, then ``RESPONSE_FIELDS`` for each instrument.

        None is left for the CSV writer, which writes it as an empty field.
        """
        if len(source) != self.source_width:
            raise ValueError(f"a source has {self.source_width} values, not {len(source)}")
        (reference, submitted_at, first_name, last_name, date_of_birth, email, phone,
         adequate_failed_trials, contraindications, cautions, fit, urgent,
         needs_medical_review, ruleset, review_status, acknowledged_at
         ) = source[:len(SUBMISSION_FIELDS)]
        responses: tuple[Any, ...] = ()
        for cells, at in self._builders:
            responses += cells(source[at], source[at + 1], source[at + 2])
        return (
            # Only patient-typed text can start a formula: the reference, the codes and the
            # numbers come from our own code.
            reference, submitted_at, neutralise(first_name), neutralise(last_name),
            date_of_birth, neutralise(email), neutralise(phone),
            *responses,
            adequate_failed_trials, codes(contraindications), codes(cautions), fit,
            _FLAG[urgent], _FLAG[needs_medical_review], ruleset, review_status, acknowledged_at,
        )

    def rows(
        self, sources: Iterable[Sequence[Any]], deidentified: bool = False
    ) -> Iterator[tuple[Any, ...]]:
        """``row`` of each source, without the identifying columns when ``deidentified``."""
        built = map(self.row, sources)
        return map(self._deidentify, built) if deidentified else built


@cache
def layout(keys: tuple[str, ...] = INTAKE_INSTRUMENTS) -> CsvLayout:
    """The layout for these instrument keys, in order (built once per list)."""
    return CsvLayout([INSTRUMENTS[key] for key in keys])


#: The layout of the intake's instruments, and its parts as module names for convenience.
INTAKE = layout()
COLUMNS = INTAKE.columns
DEIDENTIFIED_COLUMNS = INTAKE.deidentified_columns
columns = INTAKE.header
row = INTAKE.row
rows = INTAKE.rows


def text(cell_rows: Iterable[Sequence[Any]]) -> str:
    """RFC 4180 text of ``cell_rows``: CRLF line ends, fields quoted where needed."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(cell_rows)
    return buffer.getvalue()
