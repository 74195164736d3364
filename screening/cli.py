"""Command-line commands: ``flask drafts purge`` (more are added by other modules)."""

from __future__ import annotations

import datetime as dt

import click
from flask import Flask
from flask.cli import AppGroup

from . import database, demo, throttle, users_cli
from .extensions import db
from .intake import drafts as draft_store

drafts_cli = AppGroup("drafts", help="Manage saved intake drafts.")


def purge_expired_drafts() -> int:
    now = dt.datetime.now(dt.UTC)
    count = draft_store.purge_expired(now)
    throttle.purge(now)
    db.session.commit()
    return count


@drafts_cli.command("purge")
def purge_command() -> None:
    """Daily housekeeping: delete drafts past their 7-day expiry, refresh statistics."""
    click.echo(f"Deleted {purge_expired_drafts()} expired draft(s).")
    database.refresh_statistics()


def init_app(app: Flask) -> None:
    app.cli.add_command(drafts_cli)
    demo.init_app(app)
    users_cli.init_app(app)
