"""Plain, friendly error pages without internals; the public form's abuse limits."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from flask import Flask

from screening import PROJECT_ROOT
from screening.extensions import db
from screening.models import Draft, Submission, ThrottleEvent

from .auth_helpers import login, make_user
from .conftest import csrf_token, post_form
from .intake_helpers import complete_intake, valid_steps

INTERNALS = ("Traceback", "Werkzeug", "werkzeug", "Python/", "File \"", "sqlalchemy",
             "Exception", "Error:", "line ")


def page(response) -> str:
    return response.get_data(as_text=True)


def assert_plain_error(response, status: int, heading: str) -> None:
    text = page(response)
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert f"<h1>{heading}" in text
    assert "Go to the start page" in text
    for word in INTERNALS:
        assert word not in text, word


def rows(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- each error page -------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused_plainly(app, client):
    response = client.post("/intake/consent", data={"consent": "y"})
    assert_plain_error(response, 400, "Something was wrong with that request")
    assert "for your security we did not accept it" in page(response)
    assert rows(app, Draft) == 0


def test_a_forged_csrf_token_is_refused(app, client):
    client.get("/intake/consent")
    response = client.post("/intake/consent", data={"consent": "y", "csrf_token": "forged"})
    assert_plain_error(response, 400, "Something was wrong with that request")
    assert rows(app, Draft) == 0


def test_an_unknown_page_is_a_plain_404(client):
    assert_plain_error(client.get("/intake/no-such-step"), 404, "Page not found")
    assert_plain_error(client.get("/wp-login.php"), 404, "Page not found")


def test_a_wrong_method_is_a_plain_405_that_says_what_is_allowed(client):
    response = client.put("/intake/consent")
    assert_plain_error(response, 405, "That action is not available here")
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_an_oversize_request_is_a_plain_413_and_stores_nothing(app, client):
    token = csrf_token(page(client.get("/intake/consent")))
    assert app.config["MAX_CONTENT_LENGTH"] <= 1024 * 1024
    padding = "x" * app.config["MAX_CONTENT_LENGTH"]
    response = client.post(
        "/intake/consent", data={"csrf_token": token, "consent": "y", "padding": padding}
    )
    assert_plain_error(response, 413, "That was too much to send at once")
    assert "Nothing was saved" in page(response)
    assert rows(app, Draft) == 0


def test_a_longest_honest_step_fits_under_the_size_limit(client):
    # The largest real step: every antidepressant row filled to the limit, notes full.
    complete_intake(client, submit=False)
    rows_data = {}
    for index in range(20):
        rows_data |= {
            f"trials-{index}-medication": "M" * 100, f"trials-{index}-weeks": "520",
            f"trials-{index}-as_prescribed": "yes", f"trials-{index}-response": "did_not_help",
        }
    data = valid_steps(treatment={**rows_data, "treatment_notes": "é" * 2000})["treatment"]
    response = post_form(client, "/intake/treatment", data)
    assert response.status_code == 302


def test_a_failure_in_a_view_is_a_plain_500_without_details(make_app, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()

    def broken(*args, **kwargs):
        raise RuntimeError("boom: Alex Testperson 1984-06-14")

    monkeypatch.setattr("screening.intake.views.render_template", broken)
    response = client.get("/crisis")
    assert_plain_error(response, 500, "Sorry, something went wrong on our side")
    assert "boom" not in page(response) and "Alex" not in page(response)


def test_staff_pages_refuse_strangers_plainly(app, client):
    make_user(app, "casey.clinician@example.com")
    assert client.get("/clinician/audit").status_code == 302  # to sign in
    login(client)
    response = client.get("/clinician/audit")  # admins only
    assert_plain_error(response, 403, "You do not have access to this page")


def test_debug_is_off_unless_asked_for():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SCREENING_"))}
    env["SCREENING_SECRET_KEY"] = "a-test-key"
    probe = "from screening import create_app; app = create_app(); print(app.debug, app.testing)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=PROJECT_ROOT, env=env, capture_output=True,
        text=True, timeout=60, check=True,
    )
    assert result.stdout.split() == ["False", "False"]


# --- abuse of the public form ----------------------------------------------------------------


def start_intake(app: Flask, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return post_form(client, "/intake/consent", {"consent": "y"})


def test_new_intakes_per_address_are_limited_across_workers(make_app):
    first_worker = make_app(INTAKE_MAX_PER_ADDRESS=3)
    second_worker = make_app(INTAKE_MAX_PER_ADDRESS=3)
    for worker in (first_worker, second_worker, first_worker):
        assert start_intake(worker, "198.51.100.7").status_code == 302

    refused = start_intake(second_worker, "198.51.100.7")

    assert_plain_error(refused, 429, "Too many attempts")
    assert "988" in page(refused)  # help is still offered
    assert rows(first_worker, Draft) == 3
    # Another address is not affected.
    assert start_intake(second_worker, "198.51.100.8").status_code == 302
    assert rows(first_worker, Draft) == 4


def test_the_limit_counts_new_intakes_not_steps(make_app):
    app = make_app(INTAKE_MAX_PER_ADDRESS=1)
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    complete_intake(client)  # six steps and a submit from one address: one intake
    assert rows(app, Submission) == 1
    assert start_intake(app, "198.51.100.9").status_code == 429


def test_the_limit_window_passes(make_app):
    app = make_app(INTAKE_MAX_PER_ADDRESS=1)
    assert start_intake(app, "198.51.100.10").status_code == 302
    assert start_intake(app, "198.51.100.10").status_code == 429
    with app.app_context():  # an hour and a bit later
        for event in db.session.scalars(db.select(ThrottleEvent)):
            event.created_at -= app.config["INTAKE_WINDOW"] * 1.1
        db.session.commit()
    assert start_intake(app, "198.51.100.10").status_code == 302


@pytest.mark.parametrize("value", ["https://spam.example.com", "x", " "])
def test_a_filled_honeypot_stores_nothing(app, client, value):
    response = post_form(client, "/intake/consent", {"consent": "y", "website": value})
    assert response.status_code == 302
    assert response.location.rstrip("/").endswith("localhost") or response.location == "/"
    assert rows(app, Draft) == 0
    with client.session_transaction() as session:
        assert "draft_token" not in session


def test_the_honeypot_is_hidden_from_people(client):
    text = page(client.get("/intake/consent"))
    assert 'name="website"' in text
    field = text[text.index('<div class="hp"'):text.index('name="website"')]
    assert 'aria-hidden="true"' in field and 'tabindex="-1"' in text


def test_a_forged_forwarded_address_does_not_dodge_the_limit(make_app):
    app = make_app(INTAKE_MAX_PER_ADDRESS=1)  # no proxy trusted: X-Forwarded-For is ignored
    for forged in ("203.0.113.1", "203.0.113.2"):
        client = app.test_client()
        client.environ_base.update(REMOTE_ADDR="198.51.100.20",
                                   HTTP_X_FORWARDED_FOR=forged)
        status = post_form(client, "/intake/consent", {"consent": "y"}).status_code
        assert status == (302 if forged.endswith(".1") else 429)


def test_behind_a_trusted_proxy_the_limit_is_per_patient_address(make_app):
    app = make_app(INTAKE_MAX_PER_ADDRESS=1, TRUSTED_PROXIES=1)
    statuses = []
    for patient in ("203.0.113.1", "203.0.113.2", "203.0.113.1"):
        client = app.test_client()
        client.environ_base.update(REMOTE_ADDR="10.0.0.2",  # the proxy
                                   HTTP_X_FORWARDED_FOR=patient)
        statuses.append(post_form(client, "/intake/consent", {"consent": "y"}).status_code)
    assert statuses == [302, 302, 429]
