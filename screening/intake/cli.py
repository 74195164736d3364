"""``flask drafts purge``: the daily housekeeping of unfinished intakes."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..clock import utcnow
from ..extensions import db
from ..web import database, throttle
from . import drafts

drafts_cli = AppGroup("drafts", help="Manage saved intake drafts.")


@drafts_cli.command("purge")
def purge_command() -> None:
    """Daily housekeeping: delete drafts past their 7-day expiry (and rate-limit counts too
    old to count), then refresh the query planner's statistics."""
    now = utcnow()
    count = drafts.purge_expired(now)
    throttle.purge(now)
    db.session.commit()
    click.echo(f"Deleted {count} expired draft(s).")
    database.refresh_statistics()


def init_app(app: Flask) -> None:
    app.cli.add_command(drafts_cli)
