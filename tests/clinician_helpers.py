"""Synthetic submissions stored straight into the database, and a signed-in clinician."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient

from screening.core import instruments as inst
from screening.core.flags import assess
from screening.core.trials import Trial
from screening.extensions import db
from screening.intake.submission import flag_columns, search_text
from screening.models import Submission
from screening.staff import passwords

from .auth_helpers import login, make_user

NOW = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
_serial = itertools.count(1)

TWO_FAILED_TRIALS = (
    Trial("Sertraline", 8, True, "did_not_help"),
    Trial("Escitalopram", 10, True, "helped_a_little"),
)


def reference_for(n: int) -> str:
    code = "".join(inst_char(n // (30**i)) for i in range(8))
    return f"{code[:4]}-{code[4:]}"


def inst_char(n: int) -> str:
    return "ABCDEFGHJKMNPQRSTVWXYZ23456789"[n % 30]


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
    """Store one scored, flagged submission (as the intake would); returns its reference."""
    n = next(_serial)
    answers = {f"phq9_{i}": v for i, v in enumerate(phq9, 1)}
    answers.update({f"gad7_{i}": v for i, v in enumerate(gad7, 1)})
    safety = {q.code: q.code in safety_yes for q in inst.SAFETY_QUESTIONS}
    result = assess(answers, trials, safety)
    reference = overrides.pop("reference", None) or reference_for(n)
    email = email or f"{first_name}.{last_name}.{n}@example.com".lower()
    values: dict[str, Any] = dict(
        reference=reference,
        draft_token_hash=f"test-draft-{n}-{reference}",
        submitted_at=submitted_at or NOW - dt.timedelta(minutes=n),
        consented_at=(submitted_at or NOW) - dt.timedelta(minutes=30),
        first_name=first_name,
        last_name=last_name,
        date_of_birth=dt.date(1984, 6, 14),
        email=email,
        phone="555 010 4477",
        contact_method="email",
        search_text=search_text(first_name, last_name, email, reference),
        answers=answers,
        phq9_difficulty=difficulty,
        trials=[t.__dict__ for t in trials],
        other_treatments={"psychotherapy": True, "ect": False, "tms": False, "ketamine": False,
                          "ketamine_outcome": None, "notes": notes},
        safety=safety,
        review_status="new",
        **flag_columns(result, answers),
    )
    values.update(overrides)
    with app.app_context():
        db.session.add(Submission(**values))
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
        db.session.expunge(found)
        return found


def use_cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in is not under test here: hash with small argon2 costs to keep the suite quick."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
