"""The migrations build what the models describe, and a clinic's existing rows come through
every later migration: into the search index, the tally, and the patient record.

Rows "already stored" are written the way the schema of their time stored them
(``data/before_patient_record.json``: synthetic intakes in the wide row that held the
patient's identity and every answer). The expected exports in ``data/`` were made from those
rows by the code before the patient record, so an upgraded database must give them byte for
byte.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import check, downgrade, upgrade

from screening import create_app
from screening.clinician import queries
from screening.extensions import db
from screening.models import Patient, QuestionnaireResponse, Submission

from .auth_helpers import login, make_user
from .conftest import TEST_DATABASE_URL, _postgres_test_database, _test_config

DATA = Path(__file__).parent / "data"
BEFORE_SEARCH_INDEX = "ee21095ebb00"
BEFORE_TALLY = "848782f7f769"
BEFORE_PATIENT_RECORD = "0b4ead974b47"
OLD_ROWS = json.loads((DATA / "before_patient_record.json").read_text())
# What the code before the patient record kept on each submission and still keeps there.
KEPT = ("reference", "fit", "urgent", "needs_medical_review", "reasons", "ruleset",
        "review_status", "awaiting_ack", "adequate_failed_trials", "contraindications",
        "cautions", "trials", "safety", "other_treatments", "acknowledgement_note")


def test_the_models_and_the_migrations_agree(app):
    with app.app_context():
        check()  # exits (SystemExit) when autogenerate would write a migration


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[str]:
    """An empty database of this test's own: it is migrated down and up."""
    if TEST_DATABASE_URL:
        source = _postgres_test_database(TEST_DATABASE_URL)
        yield next(source)
        next(source, None)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


@pytest.fixture
def fresh_app(fresh_database):
    app = create_app(_test_config(fresh_database))
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def store_old_rows(app, rows: list[dict]) -> None:
    """Insert ``rows`` as the ``submission`` table of the database's current revision has them
    (reflected: the models describe only the newest schema)."""
    with app.app_context():
        table = sa.Table("submission", sa.MetaData(), autoload_with=db.engine)

        def value(column: sa.Column, found: object) -> object:
            if found is None:
                return None
            if isinstance(column.type, sa.DateTime):
                return dt.datetime.fromisoformat(str(found))
            if isinstance(column.type, sa.Date):
                return dt.date.fromisoformat(str(found))
            return found

        with db.engine.begin() as connection:
            connection.execute(sa.insert(table), [
                {c.name: value(c, row[c.name]) for c in table.columns if c.name in row}
                for row in rows
            ])
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(sa.text(
                    "SELECT setval(pg_get_serial_sequence('submission', 'id'),"
                    " (SELECT MAX(id) FROM submission))"))


def references_found(app, search: str) -> set[str]:
    with app.test_request_context():
        page = queries.dashboard_page(queries.Filters(search=search), queries.QUEUE, False, 1)
        return {row.reference for row in page.rows}


def dashboard_total(app) -> int:
    with app.test_request_context():
        return queries.dashboard_page(queries.Filters(), queries.QUEUE, False, 1).total


def exported(app, deidentified: bool = False) -> bytes:
    """``/clinician/export.csv`` as a signed-in clinician downloads it."""
    client = app.test_client()
    assert login(client).status_code == 302
    url = "/clinician/export.csv" + ("?deidentified=1" if deidentified else "")
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data()


def test_an_existing_database_upgrades_to_the_patient_record_with_nothing_lost(fresh_app):
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE_PATIENT_RECORD)
    store_old_rows(app, OLD_ROWS)
    with app.app_context():
        upgrade()
        check()
    make_user(app)

    assert exported(app) == (DATA / "export_before_patient_record.csv").read_bytes()
    assert exported(app, deidentified=True) == (
        DATA / "export_before_patient_record-deidentified.csv").read_bytes()
    with app.app_context():
        submissions = {s.reference: s for s in db.session.scalars(sa.select(Submission))}
        assert len(submissions) == len(OLD_ROWS)
        for row in OLD_ROWS:
            stored = submissions[row["reference"]]
            assert {k: getattr(stored, k) for k in KEPT} == {k: row[k] for k in KEPT}
            assert stored.submitted_at == dt.datetime.fromisoformat(
                row["submitted_at"]).replace(tzinfo=dt.UTC)
            assert stored.language == "en"
            person = stored.patient
            assert (person.first_name, person.last_name, person.email, person.phone,
                    person.date_of_birth.isoformat(), person.contact_method) == (
                row["first_name"], row["last_name"], row["email"], row["phone"],
                row["date_of_birth"], row["contact_method"])
            phq9, gad7 = stored.response("phq9"), stored.response("gad7")
            assert (phq9.total, phq9.band, gad7.total, gad7.band) == (
                row["phq9_total"], row["phq9_severity"], row["gad7_total"],
                row["gad7_severity"])
            assert phq9.urgent == (row["phq9_item9"] >= 1) == row["urgent"]
            assert phq9.answers.get("10") == row["phq9_difficulty"]
            assert [phq9.answers[str(n)] for n in range(1, 10)] == [
                row["answers"][f"phq9_{n}"] for n in range(1, 10)]
            assert {r.patient_id for r in stored.responses} == {person.id}
        # The keys possible matches are found by: "+1 (555) 010-4477" is "555 010 4477".
        keys = set(db.session.scalars(sa.select(Patient.phone_key)))
        assert keys == {"5550104477", "5550199"}
        assert db.session.scalar(sa.select(sa.func.count(QuestionnaireResponse.id))) == 80
    # The search index and the tally still know every row.
    assert references_found(app, "samplewood") == {
        r["reference"] for r in OLD_ROWS if r["last_name"] == "Samplewood"}
    assert dashboard_total(app) == len(OLD_ROWS)


def test_the_patient_record_migration_goes_down_and_up_again(fresh_app):
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE_PATIENT_RECORD)
    store_old_rows(app, OLD_ROWS[:12])
    with app.app_context():
        upgrade()
        downgrade(revision=BEFORE_PATIENT_RECORD)
    # A row stored meanwhile, in the wide row again.
    store_old_rows(app, OLD_ROWS[12:20])
    with app.app_context():
        upgrade()
        check()
    make_user(app)
    expected = (DATA / "export_before_patient_record.csv").read_bytes().split(b"\r\n")
    assert exported(app).split(b"\r\n") == expected[:21] + [b""]
    assert dashboard_total(app) == 20
    assert references_found(app, "testperson") == {
        r["reference"] for r in OLD_ROWS[:20] if r["last_name"] == "Testperson"}


def test_the_search_index_covers_rows_stored_before_it(fresh_app):
    app = fresh_app
    with app.app_context():
        upgrade(revision=BEFORE_SEARCH_INDEX)
    store_old_rows(app, OLD_ROWS[:8])
    with app.app_context():
        upgrade()
    samplewoods = {r["reference"] for r in OLD_ROWS[:8] if r["last_name"] == "Samplewood"}
    assert samplewoods and references_found(app, "samplewood") == samplewoods
    assert references_found(app, "=robin sample") == samplewoods
    # And back: down, rows added meanwhile, up again.
    with app.app_context():
        downgrade(revision=BEFORE_SEARCH_INDEX)
    store_old_rows(app, OLD_ROWS[8:16])
    with app.app_context():
        upgrade()
        check()
    samplewoods |= {r["reference"] for r in OLD_ROWS[8:16] if r["last_name"] == "Samplewood"}
    assert references_found(app, "samplewood") == samplewoods


def test_the_tally_counts_rows_stored_before_it(fresh_app):
    app = fresh_app
    with app.app_context():
        upgrade()
        downgrade(revision=BEFORE_TALLY)
    store_old_rows(app, OLD_ROWS[:3])
    with app.app_context():
        upgrade()
    assert dashboard_total(app) == 3
    with app.app_context():
        downgrade(revision=BEFORE_PATIENT_RECORD)
    store_old_rows(app, OLD_ROWS[3:4])
    with app.app_context():
        upgrade()
    assert dashboard_total(app) == 4
