"""Synthetic intake answers and helpers that walk the intake like a patient."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from screening.core import health_screen
from screening.extensions import db
from screening.intake.drafts import hash_token
from screening.models import Draft, Submission

from .conftest import post_form

SAFETY_CODES = [q.code for q in health_screen.SAFETY_QUESTIONS]
STEP_KEYS = ["consent", "about", "phq9", "gad7", "treatment", "health"]


def valid_steps(**overrides: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Form data for every step of a valid intake; ``overrides`` replace fields per step."""
    steps: dict[str, dict[str, Any]] = {
        "consent": {"consent": "y"},
        "about": {
            "first_name": "Alex",
            "last_name": "Testperson",
            "date_of_birth-day": "14",
            "date_of_birth-month": "6",
            "date_of_birth-year": "1984",
            "email": "alex.testperson@example.com",
            "phone": "555 010 4477",
            "contact_method": "email",
        },
        "phq9": {**{f"phq9_{i}": "2" for i in range(1, 10)}, "phq9_9": "0",
                 "phq9_difficulty": "2"},
        "gad7": {f"gad7_{i}": "1" for i in range(1, 8)},
        "treatment": {
            "trials-0-medication": "Sertraline",
            "trials-0-weeks": "8",
            "trials-0-as_prescribed": "yes",
            "trials-0-response": "did_not_help",
            "trials-1-medication": "Escitalopram",
            "trials-1-weeks": "10",
            "trials-1-as_prescribed": "yes",
            "trials-1-response": "helped_a_little",
            "other_psychotherapy": "yes",
            "other_ect": "no",
            "other_tms": "no",
            "other_ketamine": "no",
        },
        "health": {code: "no" for code in SAFETY_CODES},
    }
    for step, fields in overrides.items():
        steps[step] = {**steps[step], **fields}
    return steps


def complete_intake(client: FlaskClient, submit: bool = True, **overrides: dict[str, Any]):
    """Walk every step; returns the last response (the confirmation redirect if submitted)."""
    response = None
    for step, data in valid_steps(**overrides).items():
        response = post_form(client, f"/intake/{step}", data)
        assert response.status_code == 302, (step, response.get_data(as_text=True)[:2000])
    if submit:
        response = post_form(client, "/intake/review", {})
        assert response.status_code == 302
    return response


def walk_to(client: FlaskClient, step: str, **overrides: dict[str, Any]) -> None:
    """Complete every step before ``step`` (so ``step`` is the next to answer)."""
    for key, data in valid_steps(**overrides).items():
        if key == step:
            return
        response = post_form(client, f"/intake/{key}", data)
        assert response.status_code == 302, (key, response.get_data(as_text=True)[:2000])


def all_submissions(app: Flask) -> list[Submission]:
    with app.app_context():
        submissions = db.session.scalars(db.select(Submission)).all()
        for found in submissions:  # read now: the objects outlive their session
            _ = (found.patient.name, found.responses)
        db.session.expunge_all()
        return list(submissions)


def all_drafts(app: Flask) -> list[Draft]:
    with app.app_context():
        drafts = db.session.scalars(db.select(Draft)).all()
        db.session.expunge_all()
        return list(drafts)


def session_token(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("draft_token")


def saved_draft_data(app: Flask, client: FlaskClient) -> dict[str, Any]:
    """What the draft of ``client``'s session holds."""
    token = session_token(client)
    assert token, "no draft in this session"
    with app.app_context():
        draft = db.session.scalar(db.select(Draft).where(Draft.token_hash == hash_token(token)))
        assert draft is not None
        return dict(draft.data)


def ids_on(html: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', html))


def summary_links(html: str) -> list[str]:
    """The anchors of the error summary's links."""
    match = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert match, "no error summary on the page"
    return re.findall(r'href="#([^"]+)"', match.group(0))


def field_error(html: str, field_id: str) -> str:
    """The error message shown next to the field ``field_id``."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>',
                      html, re.S)
    assert match, f"no error next to {field_id}"
    return html_lib.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Error:", "").strip()


def same_browser(app: Flask, client: FlaskClient) -> FlaskClient:
    """A client (possibly of another worker) holding ``client``'s session cookie: a 2nd tab."""
    twin = app.test_client()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    twin.set_cookie(cookie.key, cookie.value, domain="localhost")
    return twin
