"""Turning a finished draft into a stored, scored and flagged submission, exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..core import health_screen, identity, treatment_history
from ..core.flags import Assessment, assess
from ..core.instruments import Instrument
from ..core.references import new_reference
from ..core.scoring import Score, score
from ..core.trials import Trial
from ..extensions import db
from ..models import INTAKE, Draft, Patient, QuestionnaireResponse, Submission
from .steps import Steps

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


def flag_columns(result: Assessment) -> dict[str, Any]:
    """The Submission columns derived by the rules (flags, reasons, rule set), and
    ``awaiting_ack`` as it starts: not a rule result but the review state of a new
    submission, which a caller storing a later state (the demo seeder) sets after these.

    The intake, the demo seeder and the tests all store these, so a new stored flag is one edit.
    """
    return {
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


def patient_columns(about: Mapping[str, Any]) -> dict[str, Any]:
    """A Patient's columns from the "about you" answers, with the keys possible matches
    are found by (``core.identity``)."""
    return {
        "first_name": about["first_name"],
        "last_name": about["last_name"],
        "date_of_birth": _date(about["date_of_birth"]),
        "email": about["email"],
        "phone": about["phone"],
        "contact_method": about["contact_method"],
        "email_key": identity.email_key(about["email"]),
        "phone_key": identity.phone_key(about["phone"]),
    }


def response_columns(
    instrument: Instrument, answers: Mapping[str, int], scored: Score | None = None
) -> dict[str, Any]:
    """A QuestionnaireResponse's scored columns: answers keyed by item, total, band, alert
    (raises ``IncompleteResponse`` for a partial or invalid set: never prorated).

    ``scored`` is ``score(instrument, answers)`` when the caller has it already: the intake
    and the demo seeder score each response once for the flags (scoring is most of the CPU of
    making a seeded row: ``bench/PROFILING.md``).
    """
    result = scored if scored is not None else score(instrument, answers)
    return {
        "instrument": instrument.key,
        "instrument_version": instrument.version,
        "answers": dict(answers),
        "total": result.total,
        "band": result.band,
        "urgent": result.alert,
    }


def search_text(first_name: str, last_name: str, email: str, reference: str) -> str:
    """What the dashboard's search looks in: name, email and reference, lower-cased."""
    return f"{first_name} {last_name} {email} {reference}".lower()


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def build_submission(
    steps: Steps, draft: Draft, now: dt.datetime, language: str = "en"
) -> Submission:
    """The patient, the submission with every flag and reason, and one response per
    questionnaire, from a complete draft (added to nothing yet)."""
    data = draft.data
    about = data["about"]
    instruments = steps.instruments()
    answers = {i.key: i.fields_to_answers(data[i.key]) for i in instruments}
    scored = {i.key: score(i, answers[i.key]) for i in instruments}
    trials = trials_from(data)
    safety = {q.code: data["health"][q.code] == "yes" for q in health_screen.SAFETY_QUESTIONS}
    result = assess(scored, trials, safety)
    treatment = data["treatment"]
    other = {
        t.code: treatment[f"other_{t.code}"] == "yes" for t in treatment_history.OTHER_TREATMENTS
    }
    other["ketamine_outcome"] = treatment.get("ketamine_outcome") if other["ketamine"] else None
    other["notes"] = treatment.get("treatment_notes") or ""
    reference = new_reference()
    patient = Patient(created_at=now, **patient_columns(about))
    return Submission(
        reference=reference,
        draft_token_hash=draft.token_hash,
        patient=patient,
        submitted_at=now,
        consented_at=dt.datetime.fromisoformat(data["consent"]["consented_at"]),
        language=language,
        search_text=search_text(
            about["first_name"], about["last_name"], about["email"], reference
        ),
        trials=[t.__dict__ for t in trials],
        other_treatments=other,
        safety=safety,
        review_status="new",
        responses=[
            QuestionnaireResponse(
                patient=patient, occasion=INTAKE, language=language, completed_at=now,
                **response_columns(instrument, answers[instrument.key], scored[instrument.key]),
            )
            for instrument in instruments
        ],
        **flag_columns(result),
    )


def existing_submission(token_hash: str) -> Submission | None:
    return db.session.scalar(select(Submission).where(Submission.draft_token_hash == token_hash))


def submit(
    steps: Steps, draft: Draft, now: dt.datetime, language: str = "en"
) -> tuple[Submission, bool]:
    """Store the submission, answered in ``language``, and delete the draft (the caller
    commits).

    Returns ``(submission, created)``. A second submit of the same draft — a double click,
    a refresh, or a concurrent request from another worker — finds the first one instead
    (the unique ``draft_token_hash`` decides the race). A clash of random references, rare
    but possible over years of submissions, is tried again with a new one. Each try is a
    savepoint, so that a failed one leaves the caller's transaction usable.
    """
    token_hash = draft.token_hash
    for _attempt in range(REFERENCE_ATTEMPTS):
        submission = build_submission(steps, draft, now, language)
        try:
            with db.session.begin_nested():
                db.session.add(submission)
                db.session.flush()
                deleted = db.session.execute(delete(Draft).where(Draft.id == draft.id))
                if deleted.rowcount != 1:
                    raise DraftTaken
        except (IntegrityError, DraftTaken):
            # Either the other request won the race (it inserted the submission or deleted
            # the draft), or the reference was taken.
            found = existing_submission(token_hash)
            if found is not None:
                return found, False
            if _draft_gone(token_hash):
                raise
            continue
        db.session.expunge(draft)
        return submission, True
    raise RuntimeError("no free submission reference after several attempts")


class DraftTaken(Exception):
    """Another request submitted this draft first (it is deleted already)."""


def _draft_gone(token_hash: str) -> bool:
    return db.session.scalar(select(Draft.id).where(Draft.token_hash == token_hash)) is None
