"""The urgent alert email: only a submission's reference and a link, never patient data.

Sent after the submission is committed, from a background thread with a timeout, so a slow
or failing mail server never delays or loses a submission. The outcome is stored in
``Submission.alert_status`` ("sent" or "failed") for the dashboard to show.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.web`` and ``screening.audit``.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app
from sqlalchemy import update

from .extensions import db
from .models import Submission

log = logging.getLogger(__name__)

SENT = "sent"
FAILED = "failed"
EXTENSION_KEY = "screening_alert_threads"


def is_configured(app: Flask) -> bool:
    return bool(app.config.get("MAIL_SERVER") and app.config.get("ALERT_EMAIL_TO"))


def submission_link(app: Flask, reference: str) -> str:
    return f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/clinician/submissions/{reference}"


def build_message(app: Flask, reference: str) -> EmailMessage:
    """The alert: the reference and a link to sign in and read it; nothing about the patient."""
    message = EmailMessage()
    message["Subject"] = f"Urgent intake to review: {reference}"
    message["From"] = app.config["MAIL_FROM"]
    message["To"] = app.config["ALERT_EMAIL_TO"]
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=app.config["MAIL_FROM"].rpartition("@")[2] or None)
    message.set_content(
        "An intake submission needs prompt review and acknowledgement.\n\n"
        f"Reference: {reference}\n"
        f"Open it (sign-in required): {submission_link(app, reference)}\n\n"
        "This email holds no patient information by design.\n"
    )
    return message


def send(app: Flask, message: EmailMessage) -> None:
    """Deliver ``message`` over SMTP, with STARTTLS and login when configured."""
    config = app.config
    with smtplib.SMTP(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), timeout=float(config["MAIL_TIMEOUT"])
    ) as smtp:
        if config["MAIL_USE_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(message)


def _deliver(app: Flask, submission_id: int, reference: str) -> None:
    """The thread's work: send, then store the outcome in its own short transaction."""
    with app.app_context():
        try:
            send(app, build_message(app, reference))
            status = SENT
        except Exception as error:  # refused, unreachable, timed out, misconfigured…
            # The reference only (no patient data), and the error's class, not its text.
            log.error("urgent alert for %s not sent: %s", reference, type(error).__name__)
            status = FAILED
        try:
            _store_status(submission_id, reference, status)
        finally:
            db.session.remove()


def _store_status(submission_id: int, reference: str, status: str) -> None:
    try:
        db.session.execute(
            update(Submission).where(Submission.id == submission_id).values(alert_status=status)
        )
        db.session.commit()
    except Exception as error:  # nobody to raise to (a thread, or a patient's request)
        db.session.rollback()
        log.error("urgent alert status for %s not stored: %s", reference, type(error).__name__)


def alert_if_urgent(submission: Submission) -> threading.Thread | None:
    """Start sending the alert for a newly committed urgent submission; None when not needed."""
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    if not submission.urgent or not is_configured(app):
        return None
    thread = threading.Thread(
        target=_deliver,
        args=(app, submission.id, submission.reference),
        name=f"urgent-alert-{submission.id}",
    )
    threads: set[threading.Thread] = app.extensions.setdefault(EXTENSION_KEY, set())
    threads.difference_update([t for t in list(threads) if not t.is_alive()])
    threads.add(thread)
    try:
        thread.start()
    except RuntimeError as error:  # no thread to be had: record the failure, keep the patient's
        threads.discard(thread)
        reference = submission.reference
        log.error("urgent alert for %s not started: %s", reference, type(error).__name__)
        _store_status(submission.id, reference, FAILED)
        return None
    return thread


def wait_for_alerts(app: Flask, timeout: float | None = None) -> None:
    """Wait for alerts still being sent (at shutdown, and in tests)."""
    threads: set[threading.Thread] = app.extensions.get(EXTENSION_KEY, set())
    for thread in list(threads):
        thread.join(timeout)
        if not thread.is_alive():
            threads.discard(thread)
