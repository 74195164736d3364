"""Synthetic intake answers and a helper that walks the whole intake like a patient."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from screening.core import instruments as inst

from .conftest import post_form

SAFETY_CODES = [q.code for q in inst.SAFETY_QUESTIONS]


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
