"""Synthetic submissions stored straight into the database, and a signed-in clinician."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from screening.core import health_screen, references, scoring
from screening.core import instruments as inst
from screening.core.flags import assess
from screening.core.scoring import Score
from screening.core.trials import Trial
from screening.extensions import db
from screening.intake.submission import (
    flag_columns,
    patient_columns,
    search_text,
)
from screening.models import INTAKE, Patient, QuestionnaireResponse, Submission
from screening.staff import passwords

from .auth_helpers import login, make_user

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
_serial = itertools.count(1)

TWO_FAILED_TRIALS = (
    Trial("Sertraline", 8, True, "did_not_help"),
    Trial("Escitalopram", 10, True, "helped_a_little"),
)


def reference_for(n: int) -> str:
    return references.with_hyphen(
        "".join(references.ALPHABET[(n // 30**i) % 30] for i in range(references.LENGTH))
    )


PATIENT_FIELDS = ("date_of_birth", "phone", "contact_method")


def add_submission(
    app: Flask,
    *,
    first_name: str = "Alex",
    last_name: str = "Testperson",
    email: str | None = None,
    phq9: tuple[int, ...] = (2, 2, 2, 2, 2, 2, 2, 2, 0),
    gad7: tuple[int, ...] = (1, 1, 1, 1, 1, 1, 1),
    difficulty: int | None = 2,
    trials: tuple[Trial, ...] = TWO_FAILED_TRIALS,
    safety_yes: tuple[str, ...] = (),
    submitted_at: dt.datetime | None = None,
    notes: str = "",
    **overrides: Any,
) -> str:
    """Store one scored, flagged intake (its patient, submission and responses, as the intake
    would); returns its reference. ``overrides`` replace patient or submission columns."""
    n = next(_serial)
    answers = {
        "phq9": {str(i): v for i, v in enumerate(phq9, 1)},
        "gad7": {str(i): v for i, v in enumerate(gad7, 1)},
    }
    if difficulty is not None:
        answers["phq9"]["10"] = difficulty
    instruments = {"phq9": inst.PHQ9, "gad7": inst.GAD7}
    safety = {q.code: q.code in safety_yes for q in health_screen.SAFETY_QUESTIONS}
    # Scored as stored, not checked: a test may store what the intake would refuse (item 10
    # left out after positive answers) to see that the pages and the export cope with it.
    scores = {k: Score(scoring.total(instruments[k], a),
                       scoring.band(instruments[k], scoring.total(instruments[k], a)).code,
                       scoring.alert_reason(instruments[k], a))
              for k, a in answers.items()}
    result = assess(scores, trials, safety)
    reference = overrides.pop("reference", None) or reference_for(n)
    email = email or f"{first_name}.{last_name}.{n}@example.com".lower()
    when = submitted_at or NOW - dt.timedelta(minutes=n)
    about = {
        "first_name": first_name, "last_name": last_name, "date_of_birth": dt.date(1984, 6, 14),
        "email": email, "phone": f"555 01{n % 100:02d} {n % 10_000:04d}", "contact_method": "email",
        **{k: overrides.pop(k) for k in PATIENT_FIELDS if k in overrides},
    }
    values: dict[str, Any] = dict(
        reference=reference,
        draft_token_hash=f"test-draft-{n}-{reference}",
        submitted_at=when,
        consented_at=(submitted_at or NOW) - dt.timedelta(minutes=30),
        search_text=search_text(first_name, last_name, email, reference),
        trials=[t.__dict__ for t in trials],
        other_treatments={"psychotherapy": True, "ect": False, "tms": False, "ketamine": False,
                          "ketamine_outcome": None, "notes": notes},
        safety=safety,
        review_status="new",
        **flag_columns(result),
    )
    values.update(overrides)
    with app.app_context():
        patient = Patient(created_at=when, **patient_columns(about))
        db.session.add(Submission(
            patient=patient,
            responses=[
                QuestionnaireResponse(
                    patient=patient, occasion=INTAKE, completed_at=when, instrument=k,
                    instrument_version=instruments[k].version, answers=a,
                    total=scores[k].total, band=scores[k].band, urgent=scores[k].alert,
                )
                for k, a in answers.items()
            ],
            **values,
        ))
        db.session.commit()
    return reference


def signed_in(app: Flask, email: str = "casey.clinician@example.com") -> FlaskClient:
    """A test client signed in as a (new) clinician."""
    make_user(app, email=email)
    client = app.test_client()
    response = login(client, email=email)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def get_submission(app: Flask, reference: str) -> Submission:
    with app.app_context():
        found = db.session.scalar(db.select(Submission).where(Submission.reference == reference))
        assert found is not None
        # Loaded now: the object is read after its session has closed.
        _ = (found.patient.name, found.responses, found.notes, found.status_changes)
        db.session.expunge_all()
        return found


def use_cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in is not under test here: hash with small argon2 costs to keep the suite quick."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
