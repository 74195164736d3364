"""Erasing a submission at the patient's request: the service, and its admin-only page.

The submission goes with its notes and status changes. The audit trail keeps who erased
which reference, when and why — never what the submission said.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from . import audit, database
from .access import admin_required
from .extensions import db
from .models import Submission, User

bp = Blueprint("clinician_erase", __name__, url_prefix="/clinician")
log = logging.getLogger(__name__)

MAX_REASON = 1000
#: A reference is "ABCD-EFGH"; anything much longer is not one.
MAX_REFERENCE = 20


class ErasureError(ValueError):
    """The erasure was not carried out; the message says why."""


def erase_submission(submission: Submission, reason: str, user: User) -> None:
    """Delete ``submission`` with its notes and status changes, and audit it (commits)."""
    reason = reason.strip()
    if not reason:
        raise ErasureError("Give the reason for erasing this submission.")
    audit.record(
        "erase_submission",
        submission.reference,
        user=user,
        reason=reason[:MAX_REASON],
        notes_erased=len(submission.notes),
        status_changes_erased=len(submission.status_changes),
    )
    db.session.delete(submission)  # notes and status changes cascade with it
    db.session.commit()
    _scrub_sqlite_leftovers()


def _scrub_sqlite_leftovers() -> None:
    """On SQLite, leave no readable copy of the erased rows in the database files if it can.

    ``secure_delete`` (``database.py``) zeroes the freed pages, but the search index keeps
    the person's trigrams in older segments until they are merged, and the write-ahead log
    keeps old page versions until a checkpoint. Both are done now (about 0.5 s at 100,000
    submissions). A checkpoint cannot finish while another connection is mid-read: the old
    pages may then stay in the log file until a later erasure's checkpoint empties it (later
    writes overwrite the log from its start, not necessarily all of it). PostgreSQL leaves
    dead rows to (auto)vacuum, which frees their space without overwriting it
    (docs/security.md).
    """
    if db.engine.dialect.name != "sqlite":
        return
    database.compact_search_index()
    if not database.checkpoint_wal():
        # Names neither the patient nor the reference: the log may be kept for longer.
        log.warning("After an erasure, the SQLite write-ahead log was in use by another "
                    "connection and was not emptied: it may hold old pages until the next "
                    "erasure's checkpoint.")


class EraseForm(FlaskForm):
    reason = TextAreaField(
        "Reason for erasing",
        validators=[
            DataRequired("Give the reason for erasing this submission."),
            Length(max=MAX_REASON, message=f"Use {MAX_REASON} characters or fewer."),
        ],
    )
    confirm = StringField(
        "Type the reference again to confirm",
        validators=[
            DataRequired("Type the submission's reference to confirm."),
            Length(max=MAX_REFERENCE),
        ],
    )

    def __init__(self, reference: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reference = reference

    def validate_confirm(self, field: StringField) -> None:
        if (field.data or "").strip().upper() != self.reference:
            raise ValidationError("That is not this submission's reference: nothing was erased.")


def find(reference: str) -> Submission:
    reference = reference.strip().upper()[:MAX_REFERENCE]
    found = db.session.scalar(select(Submission).where(Submission.reference == reference))
    return found if found is not None else abort(404)


@bp.route("/submissions/<reference>/erase", methods=["GET", "POST"])
@admin_required
def erase(reference: str) -> Any:
    submission = find(reference)
    form = EraseForm(submission.reference)
    if form.validate_on_submit():
        try:
            erase_submission(submission, form.reason.data or "", current_user)
        except ErasureError as problem:
            form.reason.errors = [str(problem)]
        else:
            flash(f"Submission {submission.reference} was erased.", "success")
            return redirect(url_for("clinician.dashboard"))
    return render_template("clinician/erase.html", s=submission, form=form), (
        422 if form.errors else 200
    )
