"""Turning a finished draft into a stored, scored and flagged submission, exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ..core import instruments as inst
from ..core.flags import Assessment, assess
from ..core.references import new_reference
from ..core.scoring import self_harm_answer
from ..core.trials import Trial
from ..extensions import db
from ..models import Draft, Submission

REFERENCE_ATTEMPTS = 5


def trials_from(data: dict[str, Any]) -> list[Trial]:
    return [
        Trial(
            medication=row["medication"],
            weeks=int(row["weeks"]),
            as_prescribed=row["as_prescribed"] == "yes",
            response=row["response"],
        )
        for row in data["treatment"]["trials"]
    ]


def flag_columns(result: Assessment, answers: Mapping[str, int]) -> dict[str, Any]:
    """The Submission columns derived by the rules (totals, bands, flags, reasons, rule set),
    and ``awaiting_ack`` as it starts: not a rule result but the review state of a new
    submission, which a caller storing a later state (the demo seeder) sets after these.

    The intake, the demo seeder and the tests all store these, so a new stored flag is one edit.
    """
    return {
        "phq9_total": result.phq9_total,
        "phq9_severity": result.phq9_severity,
        "phq9_item9": self_harm_answer(answers),
        "gad7_total": result.gad7_total,
        "gad7_severity": result.gad7_severity,
        "adequate_failed_trials": result.adequate_failed_trials,
        "contraindications": list(result.contraindications),
        "cautions": list(result.cautions),
        "fit": result.fit,
        "urgent": result.urgent,
        "needs_medical_review": result.needs_medical_review,
        "reasons": result.reasons,
        "ruleset": result.ruleset,
        # An urgent submission waits for a clinician's acknowledgement from the start.
        "awaiting_ack": result.urgent,
    }


def search_text(first_name: str, last_name: str, email: str, reference: str) -> str:
    """What the dashboard's search looks in: name, email and reference, lower-cased."""
    return f"{first_name} {last_name} {email} {reference}".lower()


def build_submission(draft: Draft, now: dt.datetime) -> Submission:
    """A Submission with every answer, score, flag and reason, from a complete draft."""
    data = draft.data
    about = data["about"]
    answers = {
        q.field(item): data[q.key][q.field(item)] for q in inst.QUESTIONNAIRES for item in q.items
    }
    trials = trials_from(data)
    safety = {q.code: data["health"][q.code] == "yes" for q in inst.SAFETY_QUESTIONS}
    result = assess(answers, trials, safety)
    treatment = data["treatment"]
    other = {t.code: treatment[f"other_{t.code}"] == "yes" for t in inst.OTHER_TREATMENTS}
    other["ketamine_outcome"] = treatment.get("ketamine_outcome") if other["ketamine"] else None
    other["notes"] = treatment.get("treatment_notes") or ""
    reference = new_reference()
    return Submission(
        reference=reference,
        draft_token_hash=draft.token_hash,
        submitted_at=now,
        consented_at=dt.datetime.fromisoformat(data["consent"]["consented_at"]),
        first_name=about["first_name"],
        last_name=about["last_name"],
        date_of_birth=dt.date.fromisoformat(about["date_of_birth"]),
        email=about["email"],
        phone=about["phone"],
        contact_method=about["contact_method"],
        search_text=search_text(
            about["first_name"], about["last_name"], about["email"], reference
        ),
        answers=answers,
        phq9_difficulty=data["phq9"].get(inst.PHQ9_DIFFICULTY_FIELD),
        trials=[t.__dict__ for t in trials],
        other_treatments=other,
        safety=safety,
        review_status="new",
        **flag_columns(result, answers),
    )


def existing_submission(token_hash: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.draft_token_hash == token_hash))


def submit(draft: Draft, now: dt.datetime) -> tuple[Submission, bool]:
    """Store the submission and delete the draft (the caller commits).

    Returns ``(submission, created)``. A second submit of the same draft — a double click,
    a refresh, or a concurrent request from another worker — finds the first one instead
    (the unique ``draft_token_hash`` decides the race). A clash of random references, rare
    but possible over years of submissions, is tried again with a new one. Each try is a
    savepoint, so that a failed one leaves the caller's transaction usable.
    """
    token_hash = draft.token_hash
    for _attempt in range(REFERENCE_ATTEMPTS):
        submission = build_submission(draft, now)
        try:
            with db.session.begin_nested():
                db.session.add(submission)
                db.session.delete(draft)
        except (IntegrityError, StaleDataError):
            # Either the other request won the race (it inserted the submission or deleted
            # the draft), or the reference was taken.
            found = existing_submission(token_hash)
            if found is not None:
                return found, False
            if _draft_gone(token_hash):
                raise
            continue
        return submission, True
    raise RuntimeError("no free submission reference after several attempts")


def _draft_gone(token_hash: str) -> bool:
    return db.session.scalar(select(Draft.id).where(Draft.token_hash == token_hash)) is None
