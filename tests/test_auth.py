"""Staff sign-in, lockout, sessions, sign-out, password change and the first-password flow."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from screening.extensions import db
from screening.models import AuditEvent, ThrottleEvent, User, UserSession
from screening.staff import accounts

from .auth_helpers import PASSWORD, login, make_user
from .conftest import csrf_token, post_form

EMAIL = "casey.clinician@example.com"
NOT_RECOGNISED = "Email or password not recognised"
PAUSED = "too many failed sign-in attempts"
COOKIE = "screening_session"


def audit_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def sessions(app) -> list[UserSession]:
    with app.app_context():
        return list(db.session.scalars(select(UserSession).order_by(UserSession.id)))


def backdate(app, model, **delta: dt.timedelta) -> None:
    """Move timestamps of every row of ``model`` into the past, as if time had passed."""
    with app.app_context():
        for row in db.session.scalars(select(model)):
            for name, amount in delta.items():
                setattr(row, name, getattr(row, name) - amount)
        db.session.commit()


def sign_out(client) -> None:
    page = client.get("/clinician/password").get_data(as_text=True)
    response = client.post("/clinician/logout", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 302


# -- signing in ---------------------------------------------------------------------------------


def test_sign_in_opens_a_server_side_session_and_is_audited(app, client):
    make_user(app)
    response = login(client)
    assert response.status_code == 302
    assert client.get("/clinician/password").status_code == 200
    [row] = sessions(app)
    assert row.ended_at is None
    # The cookie holds a random token; the database only its sha256, never the user id.
    assert len(row.token_hash) == 64
    assert "sign_in" in audit_actions(app)


@pytest.mark.parametrize(
    "email, password",
    [
        ("nobody@example.com", PASSWORD),  # unknown account
        (EMAIL, "not the password at all"),  # wrong password
    ],
)
def test_failed_sign_in_says_the_same_thing_whatever_was_wrong(app, client, email, password):
    make_user(app)
    response = login(client, email, password)
    page = response.get_data(as_text=True)
    assert response.status_code == 401
    assert NOT_RECOGNISED in page
    assert "unknown" not in page.lower() and "no account" not in page.lower()
    assert client.get("/clinician/password").status_code == 302  # still anonymous
    assert sessions(app) == []
    assert audit_actions(app) == ["sign_in_failed"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent))
        assert event.user_email == email
        assert password not in str(event.details)


def test_a_deactivated_account_gets_the_same_refusal(app, client):
    make_user(app)
    with app.app_context():
        accounts.deactivate(accounts.find_user(EMAIL), dt.datetime.now(dt.UTC))
        db.session.commit()
    response = login(client)
    assert response.status_code == 401
    assert NOT_RECOGNISED in response.get_data(as_text=True)


def test_email_is_matched_whatever_its_case_and_spaces(app, client):
    make_user(app)
    assert login(client, "  Casey.Clinician@EXAMPLE.com ").status_code == 302


def test_an_empty_form_is_refused_with_field_errors(app, client):
    response = post_form(client, "/clinician/login", {"email": "", "password": ""})
    assert response.status_code == 422
    assert 'aria-describedby="email-error"' in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["casey\x00@example.com", "casey\n@example.com"])
def test_control_characters_in_the_email_are_refused_not_a_500(app, client, email):
    # PostgreSQL refuses NUL even in a comparison: it must never reach a query.
    make_user(app)
    response = login(client, email)
    assert response.status_code == 422
    assert "control characters" in response.get_data(as_text=True)


def test_sign_in_starts_a_fresh_cookie_session(app, client):
    make_user(app)
    with client.session_transaction() as cookie_session:
        cookie_session["draft_token"] = "a patient's draft on a shared computer"
    login(client)
    with client.session_transaction() as cookie_session:
        assert "draft_token" not in cookie_session


def test_the_login_page_has_no_remember_me(app, client):
    page = client.get("/clinician/login").get_data(as_text=True)
    assert "remember" not in page.lower()


# -- lockout --------------------------------------------------------------------------------------


def test_five_failures_lock_the_account_across_worker_processes(make_app):
    first, second = make_app(), make_app()
    make_user(first)
    one, two = first.test_client(), second.test_client()
    for attempt in range(4):
        response = login(one if attempt % 2 else two, EMAIL, f"wrong password, guess {attempt}")
        assert response.status_code == 401
    fifth = login(one, EMAIL, "wrong password, guess 5")
    assert fifth.status_code == 429
    assert PAUSED in fifth.get_data(as_text=True)
    # Even the right password, from either worker, now gets the lock message.
    for client in (one, two):
        response = login(client, EMAIL, PASSWORD)
        assert response.status_code == 429
        assert PAUSED in response.get_data(as_text=True)
        assert client.get("/clinician/password").status_code == 302
    assert "sign_in_lockout" in audit_actions(first)


def test_an_unknown_email_locks_the_same_way(app, client):
    for attempt in range(5):
        response = login(client, "nobody@example.com", f"guess {attempt}")
    assert response.status_code == 429


def test_five_failures_from_one_address_lock_that_address_across_workers(make_app):
    first, second = make_app(), make_app()
    make_user(first)
    one, two = first.test_client(), second.test_client()
    for client in (one, two):
        client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for attempt in range(5):
        # A different (unknown) account each time: only the address is common.
        login(one if attempt % 2 else two, f"guess{attempt}@example.com", "some password")
    locked = login(two, EMAIL, PASSWORD)
    assert locked.status_code == 429
    assert PAUSED in locked.get_data(as_text=True)

    elsewhere = first.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    assert login(elsewhere, EMAIL, PASSWORD).status_code == 302


def test_the_lock_lasts_the_window_then_lifts(app, client):
    make_user(app)
    for attempt in range(5):
        login(client, EMAIL, f"wrong {attempt}")
    backdate(app, ThrottleEvent, created_at=dt.timedelta(minutes=14))
    assert login(client).status_code == 429
    backdate(app, ThrottleEvent, created_at=dt.timedelta(minutes=1, seconds=1))
    response = login(client)
    assert response.status_code == 302
    assert client.get("/clinician/password").status_code == 200


def test_failures_older_than_the_window_do_not_count(app, client):
    make_user(app)
    for attempt in range(4):
        login(client, EMAIL, f"wrong {attempt}")
    backdate(app, ThrottleEvent, created_at=dt.timedelta(minutes=16))
    assert login(client, EMAIL, "wrong again").status_code == 401
    assert login(client).status_code == 302


def test_a_successful_sign_in_resets_the_account_count(app, client):
    make_user(app)
    for attempt in range(4):
        login(client, EMAIL, f"wrong {attempt}")
    assert login(client).status_code == 302
    sign_out(client)
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.30"
    for attempt in range(4):
        assert login(other, EMAIL, f"wrong again {attempt}").status_code == 401
    assert login(other).status_code == 302


# -- sessions -------------------------------------------------------------------------------------


def test_sign_out_ends_the_session_so_a_copied_cookie_is_refused(app, client):
    make_user(app)
    login(client)
    copied = client.get_cookie(COOKIE).value
    sign_out(client)
    assert "sign_out" in audit_actions(app)
    [row] = sessions(app)
    assert row.ended_at is not None

    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)
    response = thief.get("/clinician/password")
    assert response.status_code == 302
    assert response.location.startswith("/clinician/login")


def test_sign_out_is_a_post_with_a_csrf_token(app, client):
    make_user(app)
    login(client)
    assert client.get("/clinician/logout").status_code == 405
    assert client.post("/clinician/logout").status_code == 400  # no CSRF token
    assert client.get("/clinician/password").status_code == 200  # still signed in


def test_an_idle_session_is_refused_after_30_minutes(app, client):
    make_user(app)
    login(client)
    backdate(app, UserSession, last_seen_at=dt.timedelta(minutes=29))
    assert client.get("/clinician/password").status_code == 200
    backdate(app, UserSession, last_seen_at=dt.timedelta(minutes=31))
    response = client.get("/clinician/password")
    assert response.status_code == 302
    assert response.location.startswith("/clinician/login")


def test_activity_keeps_a_session_alive_without_a_write_per_request(app, client):
    make_user(app)
    login(client)
    backdate(app, UserSession, last_seen_at=dt.timedelta(seconds=10))
    before = sessions(app)[0].last_seen_at
    client.get("/clinician/password")
    assert sessions(app)[0].last_seen_at == before  # touched less than a minute ago: no write
    backdate(app, UserSession, last_seen_at=dt.timedelta(minutes=20))
    stale = sessions(app)[0].last_seen_at
    client.get("/clinician/password")
    assert sessions(app)[0].last_seen_at > stale + dt.timedelta(minutes=19)


def test_a_session_is_refused_after_12_hours_however_active(app, client):
    make_user(app)
    login(client)
    backdate(app, UserSession, created_at=dt.timedelta(hours=11, minutes=59))
    assert client.get("/clinician/password").status_code == 200
    backdate(app, UserSession, created_at=dt.timedelta(minutes=2))
    assert client.get("/clinician/password").status_code == 302


def test_deactivation_ends_every_session_of_the_account(app, client):
    make_user(app)
    login(client)
    phone = app.test_client()
    login(phone)
    with app.app_context():
        accounts.deactivate(accounts.find_user(EMAIL), dt.datetime.now(dt.UTC))
        db.session.commit()
    for device in (client, phone):
        assert device.get("/clinician/password").status_code == 302
    assert all(row.ended_at is not None for row in sessions(app))


def test_an_inactive_account_is_refused_even_with_a_live_session_row(app, client):
    make_user(app)
    login(client)
    with app.app_context():
        db.session.execute(update(User).values(active=False))
        db.session.commit()
    assert client.get("/clinician/password").status_code == 302


# -- password change --------------------------------------------------------------------------

NEW_PASSWORD = "a different long passphrase"


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, again=None):
    return post_form(
        client,
        "/clinician/password",
        {"current_password": current, "new_password": new, "confirm_password": again or new},
    )


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client):
    make_user(app)
    login(client)
    other_device = app.test_client()
    login(other_device)
    response = change_password(client)
    assert response.status_code == 302
    assert client.get("/clinician/password").status_code == 200
    assert other_device.get("/clinician/password").status_code == 302
    assert "password_changed" in audit_actions(app)

    fresh = app.test_client()
    assert login(fresh, EMAIL, PASSWORD).status_code == 401
    assert login(fresh, EMAIL, NEW_PASSWORD).status_code == 302


def test_the_old_cookie_is_refused_after_a_password_change(app, client):
    make_user(app)
    login(client)
    copied = client.get_cookie(COOKIE).value
    change_password(client)
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)
    assert thief.get("/clinician/password").status_code == 302


@pytest.mark.parametrize(
    "current, new, again, message",
    [
        ("not my password at all", NEW_PASSWORD, None, "not your current password"),
        (PASSWORD, "too short", None, "Use 12 to 256 characters"),
        (PASSWORD, NEW_PASSWORD, "something else entirely", "do not match"),
        (PASSWORD, PASSWORD, None, "different from the current one"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app, client, current, new, again, message
):
    make_user(app)
    login(client)
    response = change_password(client, current, new, again)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert client.get("/clinician/password").status_code == 200  # still signed in
    with app.app_context():
        assert accounts.check_password(accounts.find_user(EMAIL), PASSWORD)


def test_a_128_character_password_is_accepted(app, client):
    make_user(app)
    login(client)
    long_password = "long passphrase " * 8
    assert change_password(client, new=long_password).status_code == 302
    assert login(app.test_client(), EMAIL, long_password).status_code == 302


def test_guessing_the_current_password_locks_the_account(app, client):
    make_user(app)
    login(client)
    for attempt in range(4):
        assert change_password(client, current=f"guess number {attempt}").status_code == 422
    response = change_password(client, current="guess number five")
    assert response.status_code == 429
    assert PAUSED in response.get_data(as_text=True)
    assert login(app.test_client()).status_code == 429


def test_must_change_password_is_sent_to_the_password_page_first(app, client):
    make_user(app, role="admin", must_change_password=True)
    response = login(client, next_url="/clinician/audit")
    assert response.location == "/clinician/password"
    # Nothing else is reachable until the password is changed.
    assert client.get("/clinician/audit").location == "/clinician/password"
    page = client.get("/clinician/password").get_data(as_text=True)
    assert "one-time password" in page
    assert change_password(client).status_code == 302
    assert client.get("/clinician/audit").status_code == 200
    with app.app_context():
        assert accounts.find_user(EMAIL).must_change_password is False


# -- where to go after signing in ----------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "evil.example",
        "http:/evil.example",
    ],
)
def test_next_is_followed_only_when_it_is_a_local_path(app, client, next_url):
    make_user(app, role="admin")
    response = client.post(
        "/clinician/login",
        query_string={"next": next_url},
        data={
            "csrf_token": csrf_token(client.get("/clinician/login").get_data(as_text=True)),
            "email": EMAIL,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert "evil" not in response.location and "javascript" not in response.location
    assert response.location.startswith("/clinician/")


def test_a_local_next_is_followed(app, client):
    make_user(app, role="admin")
    response = login(client, next_url="/clinician/audit?action=sign_in")
    assert response.location == "/clinician/audit?action=sign_in"


def test_an_anonymous_visit_is_sent_to_sign_in_and_back(app, client):
    make_user(app, role="admin")
    response = client.get("/clinician/audit?action=sign_in")
    assert response.status_code == 302
    assert response.location.startswith("/clinician/login?next=")
    page = client.get(response.location).get_data(as_text=True)
    token = csrf_token(page)
    back = client.post(
        response.location, data={"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    )
    assert back.location == "/clinician/audit?action=sign_in"


def test_a_signed_in_visit_to_the_login_page_goes_home(app, client):
    make_user(app, role="admin")
    login(client)
    assert client.get("/clinician/login").status_code == 302


def test_signing_in_again_ends_the_previous_session(app, client):
    make_user(app)
    make_user(app, "robin.admin@example.com", role="admin")
    login(client)
    # The login page sends a signed-in visitor home, so take the token from another form.
    token = csrf_token(client.get("/clinician/password").get_data(as_text=True))
    response = client.post(
        "/clinician/login",
        data={"csrf_token": token, "email": "robin.admin@example.com", "password": PASSWORD},
    )
    assert response.status_code == 302
    rows = sessions(app)
    assert len(rows) == 2 and rows[0].ended_at is not None and rows[1].ended_at is None


def test_the_session_cookie_is_httponly_samesite_lax_and_secure_by_default(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    make_user(app)
    client = app.test_client()
    page = client.get("/clinician/login", base_url="https://localhost")
    response = client.post(
        "/clinician/login",
        base_url="https://localhost",
        # Flask-WTF checks the Referer on HTTPS; the Referrer-Policy must let it be sent.
        headers={"Referer": "https://localhost/clinician/login"},
        data={
            "csrf_token": csrf_token(page.get_data(as_text=True)),
            "email": EMAIL,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    for flag in ("HttpOnly", "SameSite=Lax", "Secure"):
        assert flag in cookie
    assert "Expires" not in cookie  # a browser-session cookie: no remember-me


def test_pages_let_the_browser_send_the_same_origin_referer_https_forms_need(make_app):
    app = make_app(SESSION_COOKIE_SECURE=True)
    make_user(app)
    client = app.test_client()
    page = client.get("/clinician/login", base_url="https://localhost")
    # Flask-WTF refuses an HTTPS POST that carries no Referer (what "no-referrer" would cause)…
    token = csrf_token(page.get_data(as_text=True))
    form = {"csrf_token": token, "email": EMAIL, "password": PASSWORD}
    refused = client.post("/clinician/login", base_url="https://localhost", data=form)
    assert refused.status_code == 400
    # …so every page must keep same-origin referrers, in the header and in the page.
    assert page.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.get_data(as_text=True)
    patient_page = client.get("/", base_url="https://localhost")
    assert patient_page.headers["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in patient_page.get_data(as_text=True)
