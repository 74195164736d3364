"""Accounts: argon2id hashes, password length rules, email handling, ending sessions."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from screening.extensions import db
from screening.models import User, UserSession
from screening.staff import accounts, passwords
from screening.staff.sessions import start_session

EMAIL = "casey.clinician@example.com"
NOW = dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC)


def test_the_stored_hash_is_argon2id_with_the_library_defaults(app):
    with app.app_context():
        accounts.create_user(EMAIL, "twelve chars")
        db.session.commit()
        stored = db.session.scalar(select(User.password_hash))
    # $argon2id$v=19$m=65536,t=3,p=4$salt$hash: RFC 9106's second recommended option.
    variant, version, params, salt, digest = stored.split("$")[1:]
    assert variant == "argon2id"
    assert version == "v=19"
    assert dict(p.split("=") for p in params.split(",")) == {"m": "65536", "t": "3", "p": "4"}
    assert salt and digest
    assert "twelve chars" not in stored


def test_the_same_password_hashes_differently_each_time(app):
    with app.app_context():
        one = accounts.create_user("one@example.com", "the same password")
        two = accounts.create_user("two@example.com", "the same password")
        assert one.password_hash != two.password_hash


@pytest.mark.parametrize(
    "length, problem",
    [(11, "at least 12"), (12, None), (128, None), (256, None), (257, "at most 256")],
)
def test_password_length_is_the_only_rule(length, problem):
    found = passwords.problem("a" * length)
    assert (found is None) if problem is None else (problem in found)


def test_no_composition_rules(app):
    with app.app_context():
        user = accounts.create_user(EMAIL, "all lowercase words here")
        assert accounts.check_password(user, "all lowercase words here")


def test_check_password(app):
    with app.app_context():
        user = accounts.create_user(EMAIL, "correct horse battery staple")
        assert accounts.check_password(user, "correct horse battery staple")
        assert not accounts.check_password(user, "correct horse battery stapl")
        assert not accounts.check_password(None, "correct horse battery staple")


@pytest.mark.parametrize(
    "email, role, message",
    [
        ("not-an-email", "clinician", "valid email"),
        (EMAIL, "superuser", "Role must be one of"),
    ],
)
def test_create_user_refuses_bad_input(app, email, role, message):
    with app.app_context():
        with pytest.raises(accounts.AccountError, match=message):
            accounts.create_user(email, "long enough password", role)


def test_emails_are_stored_lower_case_and_unique(app):
    with app.app_context():
        accounts.create_user("  Casey.Clinician@Example.COM ", "long enough password")
        db.session.commit()
        assert accounts.find_user(EMAIL) is not None
        with pytest.raises(accounts.AccountError, match="already exists"):
            accounts.create_user(EMAIL.upper(), "long enough password")


def open_sessions(user: User) -> int:
    return len(
        db.session.scalars(
            select(UserSession).where(
                UserSession.user_id == user.id, UserSession.ended_at.is_(None)
            )
        ).all()
    )


def test_set_password_ends_every_session_and_clears_must_change(app):
    with app.app_context():
        user = accounts.create_user(EMAIL, "first password here", must_change_password=True)
        start_session(user, NOW)
        start_session(user, NOW)
        db.session.commit()
        accounts.set_password(user, "second password here", NOW)
        db.session.commit()
        assert open_sessions(user) == 0
        assert user.must_change_password is False
        assert accounts.check_password(user, "second password here")


def test_set_password_refuses_a_short_one_and_changes_nothing(app):
    with app.app_context():
        user = accounts.create_user(EMAIL, "first password here")
        start_session(user, NOW)
        db.session.commit()
        with pytest.raises(accounts.AccountError):
            accounts.set_password(user, "short", NOW)
        db.session.rollback()
        assert open_sessions(user) == 1
        assert accounts.check_password(user, "first password here")


def test_deactivate_ends_sessions(app):
    with app.app_context():
        user = accounts.create_user(EMAIL, "first password here")
        start_session(user, NOW)
        db.session.commit()
        accounts.deactivate(user, NOW)
        db.session.commit()
        assert user.active is False and user.is_active is False
        assert open_sessions(user) == 0
