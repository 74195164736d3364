"""Erasing a submission at the patient's request: admins only, with a reason and the
reference typed again; the audit says what was erased by whom, never what it said."""

from __future__ import annotations

import json
import logging
import sqlite3

import pytest
from flask import Flask
from flask_migrate import upgrade

from screening import create_app
from screening.extensions import db
from screening.models import AuditEvent, Note, StatusChange, Submission
from screening.web import database

from .auth_helpers import login, make_user
from .clinician_helpers import add_submission, use_cheap_password_hashing
from .conftest import _test_config, csrf_token

ADMIN = "robin.admin@example.com"
CLINICIAN = "casey.clinician@example.com"
REASON = "Patient asked by email on 3 May for their answers to be deleted."


@pytest.fixture
def app(make_app, monkeypatch):
    use_cheap_password_hashing(monkeypatch)
    app = make_app()
    make_user(app, ADMIN, role="admin")
    make_user(app, CLINICIAN)
    return app


def signed_in(app: Flask, email: str):
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


@pytest.fixture
def reviewed(app) -> str:
    """An urgent submission a clinician has worked on: status, notes, acknowledgement."""
    reference = add_submission(
        app, first_name="Erinna", last_name="Deletewell", email="erinna.delete@example.com",
        phq9=(3, 3, 3, 3, 3, 3, 3, 3, 1), notes="<b>free text</b> from the patient",
    )
    clinician = signed_in(app, CLINICIAN)
    url = f"/clinician/submissions/{reference}"
    for action, data in (("status", {"expected": "new", "status": "in_review"}),
                         ("notes", {"body": "Called Erinna, left a message."}),
                         ("acknowledge", {"note": "Phoned Erinna Deletewell, safe tonight."})):
        page = clinician.get(url).get_data(as_text=True)
        reply = clinician.post(f"{url}/{action}", data={"csrf_token": csrf_token(page), **data})
        assert reply.status_code == 302, action
    return reference


def erase(client, reference: str, **data: str):
    url = f"/clinician/submissions/{reference}/erase"
    page = client.get(url)
    token = csrf_token(page.get_data(as_text=True)) if page.status_code == 200 else "none"
    return client.post(url, data={"csrf_token": token, **data})


def count(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def everything_stored(app: Flask) -> str:
    """Every row of every table, as text: where a leftover would show."""
    with app.app_context():
        with db.engine.connect() as conn:
            return "\n".join(
                json.dumps([str(v) for v in row])
                for table in db.metadata.sorted_tables
                for row in conn.execute(table.select())
            )


def test_an_admin_erases_a_submission_with_its_notes_and_history(app, reviewed):
    admin = signed_in(app, ADMIN)
    assert count(app, Note) == 1 and count(app, StatusChange) == 1

    response = erase(admin, reviewed, reason=REASON, confirm=reviewed.lower())

    assert response.status_code == 302
    assert f"Submission {reviewed} was erased" in admin.get(response.location).get_data(
        as_text=True)
    assert count(app, Submission) == 0
    assert count(app, Note) == 0 and count(app, StatusChange) == 0
    assert admin.get(f"/clinician/submissions/{reviewed}").status_code == 404
    stored = everything_stored(app).lower()
    for content in ("erinna", "deletewell", "erinna.delete@example.com", "free text",
                    "left a message", "safe tonight"):
        assert content not in stored, content


#: A letter no neighbour has, in lower case as the search index stores it: its bytes show any
#: leftover, the index's prefix-compressed trigrams included (a whole word would not).
MARKER = "ǯ"


def sqlite_app(tmp_path, monkeypatch) -> Flask:
    use_cheap_password_hashing(monkeypatch)
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'clinic.db'}"))
    with app.app_context():
        upgrade()
    make_user(app, ADMIN, role="admin")
    return app


def database_files(tmp_path) -> bytes:
    return b"".join(path.read_bytes() for path in tmp_path.glob("clinic.db*"))


def test_on_sqlite_no_copy_of_an_erased_submission_is_left_in_the_database_files(
    tmp_path, monkeypatch
):
    """Deleted rows, old search-index segments and the write-ahead log can all keep a
    readable copy; after an erasure none of the files holds the person's name or email."""
    app = sqlite_app(tmp_path, monkeypatch)
    for number in range(30):  # neighbours, so that the erased rows share pages and segments
        add_submission(app, first_name="Nora", last_name=f"Neighbour{number}")
    reference = add_submission(app, first_name="Erinna", last_name=f"Deletewell{MARKER}",
                               email="erinna.delete@example.com")
    admin = signed_in(app, ADMIN)
    before = database_files(tmp_path)
    assert b"Deletewell" in before and before.count(MARKER.encode()) > 1  # row and index

    assert erase(admin, reference, reason=REASON, confirm=reference).status_code == 302

    left = database_files(tmp_path)
    for content in (MARKER.encode(), b"Deletewell", b"deletewell",
                    b"erinna.delete@example.com"):
        assert content not in left, content
    assert b"Neighbour29" in left
    with app.app_context():
        db.engine.dispose()


def test_on_sqlite_a_log_in_use_at_an_erasure_is_a_warning_naming_no_one(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 50)
    app = sqlite_app(tmp_path, monkeypatch)
    reference = add_submission(app, first_name="Erinna", last_name="Deletewell")
    admin = signed_in(app, ADMIN)
    # The migrations' logging set-up took caplog's handler off the root logger: listen here.
    logging.getLogger("screening.clinician.erasure").addHandler(caplog.handler)
    reader = sqlite3.connect(tmp_path / "clinic.db")
    try:
        # Another worker mid-read: its snapshot is older than the erasure's.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM submission").fetchone()
        with caplog.at_level(logging.WARNING, logger="screening.clinician.erasure"):
            assert erase(admin, reference, reason=REASON, confirm=reference).status_code == 302
    finally:
        reader.close()
        logging.getLogger("screening.clinician.erasure").removeHandler(caplog.handler)
    warnings = [r.getMessage() for r in caplog.records if r.name == "screening.clinician.erasure"]
    assert len(warnings) == 1 and "write-ahead log" in warnings[0]
    for content in (reference, "Erinna", "Deletewell"):
        assert content not in warnings[0]
    assert count(app, Submission) == 0
    with app.app_context():
        db.engine.dispose()


def test_the_audit_says_who_erased_which_reference_and_why(app, reviewed):
    admin = signed_in(app, ADMIN)
    assert erase(admin, reviewed, reason=REASON, confirm=reviewed).status_code == 302
    with app.app_context():
        event = db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "erase_submission")
        )
        assert event.target == reviewed
        assert event.user_email == ADMIN
        assert event.details["reason"] == REASON
        assert event.details["notes_erased"] == 1
        # Earlier events about the submission stay: they never held its content.
        actions = set(db.session.scalars(
            db.select(AuditEvent.action).where(AuditEvent.target == reviewed)
        ))
    assert {"view_submission", "add_note", "erase_submission"} <= actions


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": REASON, "confirm": "ABCD-EFGH"}, "not this submission"),
        ({"reason": REASON, "confirm": ""}, "Type the submission"),
        ({"reason": "", "confirm": "REF"}, "Give the reason"),
        ({"reason": "   ", "confirm": "REF"}, "Give the reason"),
        ({"reason": "x" * 1001, "confirm": "REF"}, "1000 characters"),
    ],
)
def test_nothing_is_erased_without_a_reason_and_the_reference(app, reviewed, data, message):
    admin = signed_in(app, ADMIN)
    data = {k: v.replace("REF", reviewed) for k, v in data.items()}
    response = erase(admin, reviewed, **data)
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Nothing was erased" in text and message in text
    assert count(app, Submission) == 1 and count(app, Note) == 1
    with app.app_context():
        assert not db.session.scalar(
            db.select(AuditEvent).where(AuditEvent.action == "erase_submission")
        )


def test_clinicians_and_strangers_cannot_erase(app, reviewed):
    url = f"/clinician/submissions/{reviewed}/erase"
    clinician = signed_in(app, CLINICIAN)
    assert clinician.get(url).status_code == 403
    token = csrf_token(clinician.get(f"/clinician/submissions/{reviewed}").get_data(
        as_text=True))
    refused = clinician.post(url, data={"csrf_token": token, "reason": REASON,
                                        "confirm": reviewed})
    assert refused.status_code == 403
    stranger = app.test_client()
    assert stranger.get(url).status_code == 302  # to sign in
    assert stranger.post(url, data={"reason": REASON, "confirm": reviewed}).status_code in (
        400, 401)
    assert count(app, Submission) == 1


def test_an_erase_without_the_csrf_token_is_refused(app, reviewed):
    admin = signed_in(app, ADMIN)
    response = admin.post(f"/clinician/submissions/{reviewed}/erase",
                          data={"reason": REASON, "confirm": reviewed})
    assert response.status_code == 400
    assert count(app, Submission) == 1


def test_the_erase_link_is_shown_to_admins_only(app, reviewed):
    url = f"/clinician/submissions/{reviewed}"
    link = f'href="/clinician/submissions/{reviewed}/erase"'
    assert link in signed_in(app, ADMIN).get(url).get_data(as_text=True)
    assert link not in signed_in(app, CLINICIAN).get(url).get_data(as_text=True)


def test_an_unknown_reference_is_a_404(app):
    admin = signed_in(app, ADMIN)
    assert admin.get("/clinician/submissions/ZZZZ-ZZZZ/erase").status_code == 404
    assert admin.get("/clinician/submissions/" + "A" * 5000 + "/erase").status_code == 404
