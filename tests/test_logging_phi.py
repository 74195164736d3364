"""No patient data in logs: every log record (root at DEBUG, werkzeug too) and everything
written to stdout/stderr, during a full intake, its failures, and a clinician's review."""

from __future__ import annotations

import logging
import re
import socket

import pytest
from sqlalchemy.exc import OperationalError

from screening import alerts
from screening.extensions import db
from screening.models import Submission

from .clinician_helpers import signed_in, use_cheap_password_hashing
from .conftest import csrf_token, post_form
from .intake_helpers import complete_intake, valid_steps

# Distinctive synthetic values: finding one of them in a log can only mean a leak.
PATIENT = {
    "first_name": "Zanzibarina",
    "last_name": "Quokkafield",
    "email": "zq.lognever@example.com",
    "phone": "555 019 8765",
    "date_of_birth-day": "23",
    "date_of_birth-month": "11",
    "date_of_birth-year": "1979",
}
MEDICATION = "Fluvoxaminezq"
TREATMENT_NOTE = "sunflower-treatment-secret"
STAFF_NOTE = "lavender-note-secret"
ACK_NOTE = "marigold-ack-secret"
LEAKY_MESSAGE = f"bad value {PATIENT['last_name']} born 1979-11-23"
SECRETS = [
    *(v for k, v in PATIENT.items() if not k.startswith("date_of_birth")),
    "zanzibarina", "quokkafield", "1979-11-23", "23/11/1979", "11/23/1979", "19791123",
    "(1979, 11, 23)", "1979, 11, 23", MEDICATION, TREATMENT_NOTE, STAFF_NOTE, ACK_NOTE,
    "did_not_help", "helped_a_little",
]
#: Answers are small numbers: they show up as values of their question codes.
ANSWER = re.compile(r"""(phq9|gad7)_\d+['"]?\s*[:=,)]\s*['"]?\d""")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fresh_logging():
    """Loggers as in a fresh server process: enabled, with no level of their own.

    Alembic's fileConfig (run by the migrations in conftest) disabled every logger that
    existed then and set some levels; a server process never runs it.
    """
    loggers = [logger for logger in logging.Logger.manager.loggerDict.values()
               if isinstance(logger, logging.Logger)]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
        logger.setLevel(logging.NOTSET)
    yield
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled


@pytest.fixture
def everything_logged(fresh_logging, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="werkzeug")

    def logged() -> str:
        out, err = capfd.readouterr()
        records = "\n".join(
            f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''} {r.stack_info or ''}"
            for r in caplog.records
        )
        return "\n".join([records, caplog.text, out, err])

    return logged


def assert_no_patient_data(text: str) -> None:
    lowered = text.lower()
    leaks = [secret for secret in SECRETS if secret.lower() in lowered]
    leaks += [match.group(0) for match in ANSWER.finditer(text)]
    assert not leaks, f"patient data in the logs: {leaks}"


def test_a_full_intake_and_its_review_log_no_patient_data(
    make_app, monkeypatch, everything_logged
):
    use_cheap_password_hashing(monkeypatch)
    app = make_app(
        PROPAGATE_EXCEPTIONS=False,
        MAIL_SERVER="127.0.0.1", MAIL_PORT=closed_port(), MAIL_TIMEOUT=2,
        ALERT_EMAIL_TO="alerts@example.com",
    )
    patient = app.test_client()
    steps = valid_steps(
        about=PATIENT,
        phq9={"phq9_9": "2"},  # urgent: an alert is attempted, and fails
        treatment={"trials-0-medication": MEDICATION, "treatment_notes": TREATMENT_NOTE},
    )
    # Mistakes on the way, shown back to the patient with what they typed.
    assert post_form(patient, "/intake/consent", steps["consent"]).status_code == 302
    wrong = {**steps["about"], "email": "not-an-email " + PATIENT["email"]}
    assert post_form(patient, "/intake/about", wrong).status_code == 422
    # Save and resume in another browser.
    assert post_form(patient, "/intake/about", {**steps["about"], "action": "save_later"})
    with patient.session_transaction() as session:
        resume_url = f"/intake/resume/{session['draft_token']}"
    patient = app.test_client()
    dob = {k: v for k, v in PATIENT.items() if k.startswith("date_of_birth")}
    assert post_form(patient, resume_url, {**dob, "date_of_birth-year": "1980"}).status_code == 422
    assert post_form(patient, resume_url, dob).status_code == 302
    # A database failure while saving a step, then an unexpected error in a page.
    page = patient.get("/intake/phq9").get_data(as_text=True)
    failing = OperationalError("INSERT …", {"first_name": PATIENT["first_name"]},
                               Exception(f"disk I/O error near {PATIENT['email']}"))
    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", lambda: (_ for _ in ()).throw(failing))
        data = {"csrf_token": csrf_token(page), **steps["phq9"]}
        assert patient.post("/intake/phq9", data=data).status_code == 503
    with monkeypatch.context() as patch:
        def broken(*args, **kwargs):
            raise ValueError(LEAKY_MESSAGE)  # as an error quoting a bad value would

        patch.setattr("screening.intake.steps.Steps.review_sections", broken)
        complete_intake(patient, submit=False, **steps)
        assert patient.get("/intake/review").status_code == 500
    response = post_form(patient, "/intake/review", {})
    assert response.location.endswith("/intake/done")
    alerts.wait_for_alerts(app, timeout=30)
    with app.app_context():
        stored = db.session.scalars(db.select(Submission)).one()
        reference, alert_status = stored.reference, stored.alert_status
    assert alert_status == "failed"

    # The clinician's side: dashboard, search, review, status, note, acknowledgement, exports.
    staff = signed_in(app)
    assert staff.get("/clinician/").status_code == 200
    assert staff.get(f"/clinician/?search={PATIENT['last_name']}").status_code == 200
    url = f"/clinician/submissions/{reference}"
    assert staff.get(url).status_code == 200
    for action, data in (("status", {"expected": "new", "status": "in_review"}),
                         ("notes", {"body": STAFF_NOTE}),
                         ("acknowledge", {"note": ACK_NOTE})):
        page = staff.get(url).get_data(as_text=True)
        reply = staff.post(f"{url}/{action}", data={"csrf_token": csrf_token(page), **data})
        assert reply.status_code == 302, action
    export = staff.get("/clinician/export.csv")
    assert PATIENT["last_name"] in export.get_data(as_text=True)  # the export has the data…
    fhir = staff.get(f"{url}/fhir.json")
    assert fhir.status_code == 200

    text = everything_logged()
    # …and the logs saw all of this happen (so an empty capture cannot pass),
    assert "unhandled ValueError" in text
    assert "database unavailable" in text
    assert f"urgent alert for {reference} not sent" in text
    # …but never the patient's data.
    assert_no_patient_data(text)


@pytest.mark.parametrize(
    "line",
    [f"INFO saved intake for {PATIENT['email']}", "DEBUG row {'phq9_9': 2, 'phq9_1': 0}",
     'DEBUG {"gad7_3": 1}', "DEBUG params (1, 'x', phq9_2=3)"],
)
def test_the_check_finds_a_leak(line):
    with pytest.raises(AssertionError):
        assert_no_patient_data(line)


def test_sql_logging_made_verbose_still_shows_no_values(make_app, everything_logged):
    # An operator turning every logger to DEBUG must not get rows of patient data.
    app = make_app()
    client = app.test_client()
    complete_intake(client, about=PATIENT)
    assert_no_patient_data(everything_logged())
