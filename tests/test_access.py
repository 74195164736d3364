"""Deny by default: every route in the app, walked as anonymous, clinician, admin and a user
who must first change their password. Routes added later are covered without editing this."""

from __future__ import annotations

import uuid

import pytest
from flask import g, render_template_string, session
from sqlalchemy import event
from werkzeug.exceptions import Forbidden
from werkzeug.routing import IntegerConverter, Rule, UUIDConverter

from screening.extensions import db
from screening.staff import accounts
from screening.staff.sessions import (
    PASSWORD_CHANGE_ENDPOINTS,
    Staff,
    admin_required,
    is_public,
    is_safe_next,
)
from screening.web.errors import forget_user

from .auth_helpers import login, make_user

#: The only endpoints anyone may use without signing in. A new public route must be added
#: here on purpose, after thought.
PUBLIC = {
    "static",
    "healthz",
    "staff.login",
    "intake.start",
    "intake.crisis",
    "intake.step",
    "intake.review",
    "intake.done",
    "intake.saved",
    "intake.resume",
    # The questionnaires' definitions, which every exported response names: no patient data.
    "questionnaires.fhir_questionnaire",
}
ADMIN = "robin.admin@example.com"
CLINICIAN = "casey.clinician@example.com"


@pytest.fixture
def app(make_app):
    # The access check, not CSRF, must be what refuses: let POSTs without a token through.
    return make_app(WTF_CSRF_ENABLED=False)


def dummy_value(rule: Rule, argument: str) -> object:
    converter = rule._converters[argument]
    if isinstance(converter, IntegerConverter):
        return 1
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=1)
    return "x"


def routes(app) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every rule and method of the app."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            values = {arg: dummy_value(rule, arg) for arg in rule.arguments}
            url = rule.build(values, append_unknown=False)[1]
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                found.append((rule.endpoint, method, url))
    return found


def request(client, method: str, url: str):
    return client.open(url, method=method, data={})


def is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response.location.startswith("/clinician/login")


def test_the_public_list_is_exactly_what_the_app_lets_through(app):
    public = {endpoint for endpoint, _method, _url in routes(app) if is_public(endpoint)}
    assert public == PUBLIC


def test_every_other_route_refuses_anonymous_visitors(app):
    client = app.test_client()
    checked = 0
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        response = request(client, method, url)
        if method == "GET":
            assert is_sent_to_sign_in(response), (endpoint, method, response.status_code)
            assert "next=" in response.location
        else:
            assert response.status_code == 401, (endpoint, method, response.status_code)
            assert "Please sign in" in response.get_data(as_text=True)
        checked += 1
    assert checked >= 4  # at least logout, password (GET, POST) and audit


@pytest.mark.parametrize("role", ["clinician", "admin"])
def test_signed_in_staff_reach_their_routes_and_clinicians_not_admin_ones(app, role):
    email = ADMIN if role == "admin" else CLINICIAN
    make_user(app, email, role=role)
    admin_only = {e for e, view in app.view_functions.items() if getattr(view, "admin_only", 0)}
    assert "staff.audit" in admin_only
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC:
            continue
        # A fresh session each time: one of these routes is sign-out.
        client = app.test_client()
        login(client, email)
        response = request(client, method, url)
        if endpoint in admin_only and role != "admin":
            assert response.status_code == 403, (endpoint, method, response.status_code)
        else:
            assert response.status_code not in (401, 403), (endpoint, method, url)
            assert not is_sent_to_sign_in(response) or endpoint == "staff.logout"
            assert response.status_code < 500, (endpoint, method, url)


def test_an_account_that_must_change_its_password_reaches_only_that_page(app):
    make_user(app, ADMIN, role="admin", must_change_password=True)
    client = app.test_client()
    login(client, ADMIN)
    for endpoint, method, url in routes(app):
        if endpoint in PUBLIC or endpoint in PASSWORD_CHANGE_ENDPOINTS:
            continue
        response = request(client, method, url)
        if method == "GET":
            assert response.location == "/clinician/password", (endpoint, method)
        else:
            assert response.status_code == 403, (endpoint, method)


def test_admin_required_checks_the_role_itself_too(app):
    make_user(app, CLINICIAN)
    make_user(app, ADMIN, role="admin")

    @admin_required
    def admin_view() -> str:
        return "for admins"

    with app.test_request_context():
        g._login_user = accounts.find_user(CLINICIAN)  # Flask-Login's per-request user
        with pytest.raises(Forbidden):
            admin_view()
        g._login_user = accounts.find_user(ADMIN)
        assert admin_view() == "for admins"


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/clinician/", True),
        ("/clinician/submissions/7?tab=notes", True),
        ("", False),
        (None, False),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("https://evil.example/clinician/", False),
        ("clinician/", False),
        ("/\t/evil.example", False),
        ("/\n/evil.example", False),
        ("/ok\x00", False),
    ],
)
def test_is_safe_next(target, safe):
    assert is_safe_next(target) is safe


def test_the_staff_layout_renders_without_touching_the_database(app):
    """Error pages may extend it while the database is down: it shows who is signed in from
    the values captured before the view ran, and runs no query."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.test_request_context("/clinician/"):
        g.staff = Staff("robin.admin@example.com", is_admin=True, must_change_password=False)
        session["_user_id"] = "a session token"
        forget_user()  # as every error page does, so Flask-Login does not load the user
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            page = render_template_string('{% extends "clinician/base.html" %}')
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert "Signed in as robin.admin@example.com" in page
    assert statements == []
