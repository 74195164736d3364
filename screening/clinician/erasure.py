"""Erasing a submission at the patient's request.

The submission goes with its questionnaire responses, notes and status changes, and its
patient record with it when nothing else of theirs is kept (a patient record linked to
others, or with later check-ins, stays until those are erased too). The audit trail keeps
who erased which reference, when and why — never what the submission said.
"""

from __future__ import annotations

import logging

from .. import audit
from ..extensions import db
from ..models import Submission, User
from ..web import database

log = logging.getLogger(__name__)

MAX_REASON = 1000


class ErasureError(ValueError):
    """The erasure was not carried out; the message says why."""


def erase_submission(submission: Submission, reason: str, user: User) -> None:
    """Delete ``submission`` with its responses, notes and status changes, and its patient
    when nothing else is theirs; audit it (the caller commits, then calls
    :func:`scrub_leftovers`)."""
    reason = reason.strip()
    if not reason:
        raise ErasureError("Give the reason for erasing this submission.")
    patient = submission.patient
    others = (
        [s for s in patient.submissions if s.id != submission.id]
        + [r for r in patient.responses if r.submission_id != submission.id]
    )
    audit.record(
        "erase_submission",
        submission.reference,
        user=user,
        reason=reason[:MAX_REASON],
        notes_erased=len(submission.notes),
        status_changes_erased=len(submission.status_changes),
        responses_erased=len(submission.responses),
        patient_erased=not others,
    )
    db.session.delete(submission)  # its responses, notes and status changes go with it
    if not others:
        db.session.delete(patient)  # and the decisions naming the patient, by the database


def scrub_leftovers() -> None:
    """After an erasure is committed, leave no readable copy of the erased rows in the
    database files, if it can be done.

    On SQLite, ``secure_delete`` (``web/database.py``) zeroes the freed pages, but the search
    index keeps the person's trigrams in older segments until they are merged, and the
    write-ahead log keeps old page versions until a checkpoint. Both are done now (about
    0.5 s at 100,000 submissions). A checkpoint cannot finish while another connection is
    mid-read: the old pages may then stay in the log file until a later erasure's checkpoint
    empties it (later writes overwrite the log from its start, not necessarily all of it).
    PostgreSQL leaves dead rows to (auto)vacuum, which frees their space without overwriting
    it (docs/security.md).
    """
    if db.engine.dialect.name != "sqlite":
        return
    database.compact_search_index()
    if not database.checkpoint_wal():
        # Names neither the patient nor the reference: the log may be kept for longer.
        log.warning("After an erasure, the SQLite write-ahead log was in use by another "
                    "connection and was not emptied: it may hold old pages until the next "
                    "erasure's checkpoint.")
