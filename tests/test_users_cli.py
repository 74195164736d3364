"""``flask users …``: create, list, set-password, deactivate, ensure-admin."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import func, select

from screening.extensions import db
from screening.models import AuditEvent, User, UserSession
from screening.staff import accounts
from screening.staff.sessions import start_session

from .auth_helpers import login

EMAIL = "casey.clinician@example.com"
GOOD = "a long enough passphrase"


def user(app, email: str = EMAIL) -> User | None:
    with app.app_context():
        found = accounts.find_user(email)
        if found is not None:
            db.session.expunge(found)
        return found


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def audit(app) -> list[tuple[str, str | None, dict]]:
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.user_email, AuditEvent.details).order_by(
                AuditEvent.id
            )
        )
        return [tuple(row) for row in rows]


def test_create_with_password_stdin(app, runner):
    result = runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD + "\n")
    assert result.exit_code == 0, result.output
    assert GOOD not in result.output
    created = user(app)
    assert created.role == "clinician" and created.active and not created.must_change_password
    with app.app_context():
        assert accounts.check_password(accounts.find_user(EMAIL), GOOD)
    assert audit(app) == [("account_created", EMAIL, {"role": "clinician", "via": "cli"})]


def test_create_an_admin_at_the_prompt_typed_twice(app, runner):
    result = runner.invoke(
        args=["users", "create", "Robin.Admin@example.com", "--role", "admin"],
        input=f"{GOOD}\n{GOOD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Repeat for confirmation" in result.output
    assert user(app, "robin.admin@example.com").role == "admin"


def test_a_mistyped_confirmation_is_asked_again(app, runner):
    result = runner.invoke(
        args=["users", "create", EMAIL], input=f"{GOOD}\n{GOOD}x\n{GOOD}\n{GOOD}\n"
    )
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    with app.app_context():
        assert accounts.check_password(accounts.find_user(EMAIL), GOOD)


def test_create_refuses_a_short_password_and_stores_nothing(app, runner):
    result = runner.invoke(
        args=["users", "create", EMAIL, "--password-stdin"], input="too short\n"
    )
    assert result.exit_code == 1
    assert "at least 12" in result.output
    assert user_count(app) == 0
    assert audit(app) == []


def test_create_refuses_a_duplicate_and_a_bad_role(app, runner):
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD + "\n")
    again = runner.invoke(args=["users", "create", EMAIL.upper(), "--password-stdin"], input=GOOD)
    assert again.exit_code == 1
    assert "exists" in again.output
    bad_role = runner.invoke(
        args=["users", "create", "x@example.com", "--role", "root", "--password-stdin"],
        input=GOOD,
    )
    assert bad_role.exit_code == 2
    assert user_count(app) == 1


def test_list(app, runner):
    assert "No accounts." in runner.invoke(args=["users", "list"]).output
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD)
    runner.invoke(
        args=["users", "create", "robin.admin@example.com", "--role", "admin", "--password-stdin"],
        input=GOOD,
    )
    runner.invoke(args=["users", "deactivate", EMAIL])
    lines = runner.invoke(args=["users", "list"]).output.splitlines()
    assert lines[0].startswith(f"{EMAIL}\tclinician\tdeactivated")
    assert lines[1].startswith("robin.admin@example.com\tadmin\tactive")
    assert GOOD not in "\n".join(lines) and "argon2" not in "\n".join(lines)


def open_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(UserSession.id)).where(UserSession.ended_at.is_(None))
        )


def signed_in_session(app) -> None:
    with app.app_context():
        start_session(accounts.find_user(EMAIL), dt.datetime.now(dt.UTC))
        db.session.commit()


def test_set_password_ends_sessions_and_is_audited(app, runner):
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD)
    client = app.test_client()
    login(client, EMAIL, GOOD)
    assert client.get("/clinician/password").status_code == 200
    result = runner.invoke(
        args=["users", "set-password", EMAIL, "--password-stdin"], input="a brand new passphrase\n"
    )
    assert result.exit_code == 0, result.output
    assert open_sessions(app) == 0
    assert client.get("/clinician/password").status_code == 302
    assert login(app.test_client(), EMAIL, "a brand new passphrase").status_code == 302
    assert audit(app)[-2][0] == "password_set"  # then the sign-in above
    assert audit(app)[-2][2] == {"via": "cli"}


def test_set_password_for_an_unknown_account(app, runner):
    result = runner.invoke(
        args=["users", "set-password", "nobody@example.com", "--password-stdin"], input=GOOD
    )
    assert result.exit_code == 1
    assert "No account for nobody@example.com" in result.output


def test_set_password_refuses_a_short_one(app, runner):
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD)
    signed_in_session(app)
    result = runner.invoke(args=["users", "set-password", EMAIL, "--password-stdin"], input="x\n")
    assert result.exit_code == 1
    assert open_sessions(app) == 1
    with app.app_context():
        assert accounts.check_password(accounts.find_user(EMAIL), GOOD)


def test_deactivate_ends_sessions_and_stops_sign_in(app, runner):
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD)
    client = app.test_client()
    login(client, EMAIL, GOOD)
    result = runner.invoke(args=["users", "deactivate", EMAIL])
    assert result.exit_code == 0, result.output
    assert client.get("/clinician/password").status_code == 302
    assert login(app.test_client(), EMAIL, GOOD).status_code == 401
    assert ("account_deactivated", EMAIL, {"via": "cli"}) in audit(app)
    again = runner.invoke(args=["users", "deactivate", EMAIL])
    assert again.exit_code == 0 and "already deactivated" in again.output


def test_deactivate_an_unknown_account(app, runner):
    result = runner.invoke(args=["users", "deactivate", "nobody@example.com"])
    assert result.exit_code == 1


def test_ensure_admin_on_first_run_prints_a_one_time_password_once(app, runner):
    first = runner.invoke(args=["users", "ensure-admin"])
    assert first.exit_code == 0, first.output
    email = re.search(r"^\s+email:\s+(\S+)", first.output, re.M).group(1)
    password = re.search(r"^\s+password:\s+(\S+)", first.output, re.M).group(1)
    assert len(password) >= 20
    admin = user(app, email)
    assert admin.role == "admin" and admin.must_change_password

    second = runner.invoke(args=["users", "ensure-admin"])
    assert second.exit_code == 0 and second.output == ""
    assert user_count(app) == 1

    client = app.test_client()
    assert login(client, email, password).location == "/clinician/password"


def test_ensure_admin_passwords_are_random(make_app):
    seen = set()
    for _ in range(2):
        app = make_app()
        output = app.test_cli_runner().invoke(args=["users", "ensure-admin"]).output
        seen.add(re.search(r"^\s+password:\s+(\S+)", output, re.M).group(1))
        with app.app_context():
            db.session.execute(AuditEvent.__table__.delete())
            db.session.execute(User.__table__.delete())
            db.session.commit()
    assert len(seen) == 2


def test_ensure_admin_does_nothing_when_any_account_exists(app, runner):
    runner.invoke(args=["users", "create", EMAIL, "--password-stdin"], input=GOOD)
    runner.invoke(args=["users", "deactivate", EMAIL])
    result = runner.invoke(args=["users", "ensure-admin"])
    assert result.exit_code == 0 and result.output == ""
    assert user_count(app) == 1
