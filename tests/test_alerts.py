"""The urgent alert email, against a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import logging
import socket
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller

from screening import alerts
from screening.extensions import db
from screening.models import Submission

from .clinician_helpers import signed_in, use_cheap_password_hashing
from .intake_helpers import complete_intake
from .test_dashboard import page_text

ALERT_TO = "alerts@example.com"
BASE_URL = "https://intake.example.org"
URGENT = {"phq9": {"phq9_9": "1"}}
PATIENT_DETAILS = ("Alex", "Testperson", "alex.testperson@example.com", "555 010 4477", "1984")


class Inbox:
    """An aiosmtpd handler that keeps every message it is given."""

    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def mail_app(make_app, port: int, **extra: object):
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, ALERT_EMAIL_TO=ALERT_TO,
                    PUBLIC_BASE_URL=BASE_URL, MAIL_TIMEOUT=20, **extra)


def stored(app) -> Submission:
    with app.app_context():
        submission = db.session.scalars(db.select(Submission)).one()
        db.session.expunge(submission)
        return submission


def test_an_urgent_submission_emails_only_its_reference_and_a_link(make_app, smtp_server):
    inbox, port = smtp_server
    app = mail_app(make_app, port)
    response = complete_intake(app.test_client(), **URGENT)
    assert response.location.endswith("/intake/done")
    alerts.wait_for_alerts(app, timeout=60)

    submission = stored(app)
    assert submission.alert_status == "sent"
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == [ALERT_TO]
    message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
    assert message["To"] == ALERT_TO
    assert message["Subject"] == f"Urgent intake to review: {submission.reference}"
    body = message.get_content()
    assert f"Reference: {submission.reference}" in body
    assert f"{BASE_URL}/clinician/submissions/{submission.reference}" in body
    raw = envelope.original_content.decode()
    for detail in PATIENT_DETAILS:
        assert detail not in raw
    assert "PHQ" not in raw and "Several days" not in raw


def test_a_submission_that_is_not_urgent_sends_nothing(make_app, smtp_server):
    inbox, port = smtp_server
    app = mail_app(make_app, port)
    complete_intake(app.test_client())
    alerts.wait_for_alerts(app, timeout=60)
    assert inbox.envelopes == []
    assert stored(app).alert_status is None


def test_without_mail_settings_nothing_is_attempted(make_app):
    app = make_app(ALERT_EMAIL_TO=ALERT_TO)  # no MAIL_SERVER
    complete_intake(app.test_client(), **URGENT)
    assert not app.extensions.get(alerts.EXTENSION_KEY)
    submission = stored(app)
    assert submission.urgent and submission.alert_status is None


def test_a_failed_send_keeps_the_submission_and_shows_the_failure(make_app, monkeypatch, caplog):
    use_cheap_password_hashing(monkeypatch)
    # The test database's migration ran Alembic's fileConfig, which disables loggers that
    # already exist (disable_existing_loggers); a served app never migrates in-process.
    monkeypatch.setattr(alerts.log, "disabled", False)
    app = mail_app(make_app, free_port())  # nothing listens there
    patient = app.test_client()
    response = complete_intake(patient, **URGENT)
    assert response.location.endswith("/intake/done")
    assert "Your answers have been sent" in patient.get("/intake/done").get_data(as_text=True)
    alerts.wait_for_alerts(app, timeout=60)

    submission = stored(app)
    assert submission.urgent and submission.awaiting_ack
    assert submission.alert_status == "failed"
    clinician = signed_in(app)
    assert "Alert email failed" in page_text(clinician.get("/clinician/"))
    page = page_text(clinician.get(f"/clinician/submissions/{submission.reference}"))
    assert "The alert email could not be sent." in page
    # Logged with the reference and the kind of error, and nothing about the patient.
    failures = [r for r in caplog.records if r.name == "screening.alerts"]
    assert len(failures) == 1 and failures[0].levelno == logging.ERROR
    assert submission.reference in failures[0].getMessage()
    assert "ConnectionRefusedError" in failures[0].getMessage()
    logged = caplog.text
    for detail in PATIENT_DETAILS:
        assert detail not in logged


def test_a_mail_server_that_does_not_answer_does_not_hold_up_the_patient(make_app):
    # Connections queue on this socket but it never greets: the send blocks until it is closed.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    try:
        app = mail_app(make_app, silent.getsockname()[1])
        patient = app.test_client()
        response = complete_intake(patient, **URGENT)
        assert response.location.endswith("/intake/done")
        assert patient.get("/intake/done").status_code == 200
        (thread,) = app.extensions[alerts.EXTENSION_KEY]
        assert thread.is_alive()  # the patient got through while the send still waits
        assert stored(app).alert_status is None
    finally:
        silent.close()
    alerts.wait_for_alerts(app, timeout=60)
    assert stored(app).alert_status == "failed"
