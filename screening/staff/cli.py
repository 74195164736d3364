"""``flask users …``: create, list, reset and deactivate staff accounts; first-run admin."""

from __future__ import annotations

import secrets
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import exists, select

from .. import audit
from ..clock import utcnow
from ..extensions import db
from ..models import User
from ..web import clinic_time
from . import accounts

users_cli = AppGroup("users", help="Manage clinician and admin accounts.")

FIRST_ADMIN_EMAIL = "admin@localhost"


def read_password(from_stdin: bool) -> str:
    """One line from stdin, or typed twice at a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def existing_user(email: str) -> User:
    user = accounts.find_user(email)
    if user is None:
        raise click.ClickException(f"No account for {accounts.normalise_email(email)}.")
    return user


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(accounts.ROLES), default="clinician", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
def create_command(email: str, role: str, password_stdin: bool) -> None:
    """Create an account."""
    if accounts.find_user(email) is not None:
        raise click.ClickException(f"An account for {accounts.normalise_email(email)} exists.")
    password = read_password(password_stdin)
    try:
        user = accounts.create_user(email, password, role)
        db.session.flush()
    except accounts.AccountError as problem:
        db.session.rollback()
        raise click.ClickException(str(problem)) from None
    audit.record("account_created", f"user:{user.id}", email=user.email, role=role, via="cli")
    db.session.commit()
    click.echo(f"Created {role} account {user.email}.")


@users_cli.command("list")
def list_command() -> None:
    """List every account."""
    users = db.session.scalars(select(User).order_by(User.email)).all()
    if not users:
        click.echo("No accounts.")
    for user in users:
        state = "active" if user.active else "deactivated"
        extra = ", must change password" if user.must_change_password else ""
        created = clinic_time.local(user.created_at).strftime("%Y-%m-%d")  # the clinic's day
        click.echo(f"{user.email}\t{user.role}\t{state}{extra}\tcreated {created}")


@users_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set an account's password; this ends all its sessions."""
    user = existing_user(email)
    password = read_password(password_stdin)
    try:
        accounts.set_password(user, password, utcnow())
    except accounts.AccountError as problem:
        db.session.rollback()
        raise click.ClickException(str(problem)) from None
    audit.record("password_set", f"user:{user.id}", email=user.email, via="cli")
    db.session.commit()
    click.echo(f"Password set for {user.email}; their sessions have ended.")


@users_cli.command("deactivate")
@click.argument("email")
def deactivate_command(email: str) -> None:
    """Stop an account from signing in; this ends all its sessions."""
    user = existing_user(email)
    if not user.active:
        click.echo(f"{user.email} is already deactivated.")
        return
    accounts.deactivate(user, utcnow())
    audit.record("account_deactivated", f"user:{user.id}", email=user.email, via="cli")
    db.session.commit()
    click.echo(f"Deactivated {user.email}; their sessions have ended.")


@users_cli.command("ensure-admin")
def ensure_admin_command() -> None:
    """On first run only (no accounts at all): create an admin with a one-time password."""
    if db.session.scalar(select(exists().where(User.id.is_not(None)))):
        return
    password = secrets.token_urlsafe(18)
    user = accounts.create_user(FIRST_ADMIN_EMAIL, password, "admin", must_change_password=True)
    db.session.flush()
    audit.record(
        "account_created", f"user:{user.id}", email=user.email, role="admin", via="cli first run"
    )
    db.session.commit()
    click.echo("Created the first admin account. Sign in and choose a new password:")
    click.echo(f"  email:    {user.email}")
    click.echo(f"  password: {password}")
    click.echo("This password is shown only once.")


def init_app(app: Flask) -> None:
    app.cli.add_command(users_cli)
