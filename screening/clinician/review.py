"""Review actions on a submission: status changes, notes, urgent acknowledgement. All audited.

Each function makes its change and its audit event in the caller's transaction, for the view
to commit together, so nothing is half-stored. A change made from a page that went stale (another
clinician acted meanwhile) is refused with a :class:`ReviewError`, never applied twice.

Review statuses and the moves allowed between them:

- forward along the path ``new`` → ``in_review`` → ``contacted`` → ``consult_scheduled``,
  skipping steps when they happened outside the app (e.g. ``new`` → ``contacted``);
- from any open status to ``not_a_fit`` or ``closed``;
- ``not_a_fit`` → ``closed``; and ``not_a_fit`` or ``closed`` → ``in_review`` to reopen
  (a mistaken click, or a patient who gets back in touch). Reopening is recorded like any move.

An urgent submission still awaiting acknowledgement may not be set to ``not_a_fit`` or
``closed``: the urgent answer is acknowledged, with the action taken, first.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update

from .. import audit
from ..extensions import db
from ..models import Note, StatusChange, Submission, User
from ..web.validators import has_forbidden_characters

PATH = ("new", "in_review", "contacted", "consult_scheduled")
ENDINGS = ("not_a_fit", "closed")
STATUSES = PATH + ENDINGS
STATUS_LABELS = {
    "new": "New",
    "in_review": "In review",
    "contacted": "Contacted",
    "consult_scheduled": "Consultation scheduled",
    "not_a_fit": "Not a fit",
    "closed": "Closed",
}
TRANSITIONS: dict[str, tuple[str, ...]] = {
    **{status: PATH[i + 1 :] + ENDINGS for i, status in enumerate(PATH)},
    "not_a_fit": ("in_review", "closed"),
    "closed": ("in_review",),
}
MAX_NOTE_LENGTH = 5000
CONTROL_CHARACTERS_MESSAGE = "Remove the invisible control characters."


class ReviewError(ValueError):
    """A review action that cannot be done; the message is shown to the clinician as is."""


def _check_text(text: str, empty_message: str) -> str:
    text = text.strip()
    if not text:
        raise ReviewError(empty_message)
    if len(text) > MAX_NOTE_LENGTH:
        raise ReviewError(f"The text can be at most {MAX_NOTE_LENGTH} characters.")
    if has_forbidden_characters(text, multiline=True):
        raise ReviewError(CONTROL_CHARACTERS_MESSAGE)
    return text


def allowed_moves(submission: Submission) -> tuple[str, ...]:
    """The statuses this submission may move to now."""
    moves = TRANSITIONS[submission.review_status]
    if submission.awaiting_ack:
        moves = tuple(m for m in moves if m not in ENDINGS)
    return moves


def change_status(
    submission: Submission, expected: str, new: str, user: User, now: dt.datetime
) -> None:
    """Move from ``expected`` (the status the clinician saw) to ``new``; record who and when."""
    if submission.review_status != expected:
        raise ReviewError(
            f"Someone else changed the status to “{STATUS_LABELS[submission.review_status]}”"
            " meanwhile. Check it and try again."
        )
    if new not in allowed_moves(submission):
        if submission.awaiting_ack and new in ENDINGS:
            raise ReviewError("Acknowledge the urgent answer before closing this submission.")
        raise ReviewError(
            f"A submission cannot go from “{STATUS_LABELS[expected]}” to"
            f" “{STATUS_LABELS.get(new, new)}”."
        )
    # Conditional on the status still being the one checked, so that of two concurrent
    # changes from the same page only one applies. The loaded object is updated too (the
    # session keeps values after commit: see extensions.py).
    moved = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.review_status == expected)
        .values(review_status=new)
    ).rowcount
    if moved != 1:
        raise ReviewError("Someone else changed the status meanwhile. Check it and try again.")
    db.session.add(
        StatusChange(
            submission_id=submission.id,
            from_status=expected,
            to_status=new,
            user_id=user.id,
            changed_at=now,
        )
    )
    audit.record("change_status", submission.reference, user=user, old=expected, new=new)


def add_note(submission: Submission, body: str, user: User, now: dt.datetime) -> Note:
    """Append a note; notes are never edited or deleted. The audit holds no note text."""
    body = _check_text(body, "Write the note before saving it.")
    note = Note(submission_id=submission.id, user_id=user.id, created_at=now, body=body)
    db.session.add(note)
    db.session.flush()
    audit.record("add_note", submission.reference, user=user, note_id=note.id)
    return note


def acknowledge(submission: Submission, note: str, user: User, now: dt.datetime) -> None:
    """Record who acknowledged an urgent submission, when, and the action they took."""
    if not submission.urgent:
        raise ReviewError("Only urgent submissions need an acknowledgement.")
    note = _check_text(note, "Describe the action taken before acknowledging.")
    done = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.awaiting_ack.is_(True))
        .values(
            awaiting_ack=False,
            acknowledged_at=now,
            acknowledged_by_id=user.id,
            acknowledgement_note=note,
        )
    ).rowcount
    if done != 1:
        raise ReviewError("This urgent submission has already been acknowledged.")
    audit.record("acknowledge_urgent", submission.reference, user=user)
