"""Staff accounts and sign-in for tests: ``make_user(app, …)`` and ``login(client, …)``."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from screening import accounts
from screening.extensions import db

from .conftest import post_form

PASSWORD = "correct horse battery staple"


def make_user(
    app: Flask,
    email: str = "casey.clinician@example.com",
    password: str = PASSWORD,
    role: str = "clinician",
    must_change_password: bool = False,
) -> int:
    """Create an account directly in the database; returns its id."""
    with app.app_context():
        user = accounts.create_user(email, password, role, must_change_password)
        db.session.commit()
        return user.id


def login(
    client: FlaskClient,
    email: str = "casey.clinician@example.com",
    password: str = PASSWORD,
    next_url: str | None = None,
):
    """Sign in through the real form; returns the response to the POST (a redirect on success)."""
    url = "/clinician/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, url, {"email": email, "password": password})
