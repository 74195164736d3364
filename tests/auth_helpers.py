"""Staff accounts and sign-in for tests: ``make_user(app, …)`` and ``login(client, …)``."""

from __future__ import annotations

from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient

from screening.extensions import db
from screening.staff import accounts

from .conftest import csrf_token

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
    url = "/clinician/login" + (f"?next={quote(next_url)}" if next_url else "")
    data = {"email": email, "password": password}
    page = client.get(url).get_data(as_text=True)
    if 'name="csrf_token"' in page:  # absent when a test app turns CSRF off
        data["csrf_token"] = csrf_token(page)
    return client.post(url, data=data)
