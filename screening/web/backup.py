"""``flask backup PATH``: a consistent copy of the SQLite database, safe while the app runs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from ..extensions import db
from .database import SQLITE_BUSY_TIMEOUT_MS

PG_DUMP_HINT = (
    "This database is PostgreSQL: back it up with pg_dump, for example"
    " `pg_dump --format=custom --file=intake.dump \"$DATABASE_URL\"`,"
    " and restore with pg_restore."
)


class BackupError(Exception):
    """The backup cannot be made; the message says why."""


def sqlite_path(url: URL) -> Path:
    """The database file behind ``url``; refuses anything but a SQLite file."""
    if url.get_backend_name() != "sqlite":
        raise BackupError(PG_DUMP_HINT if url.get_backend_name() == "postgresql" else
                          f"Only SQLite databases can be backed up this way, not {url.drivername}.")
    if not url.database or url.database == ":memory:":
        raise BackupError("This SQLite database is in memory: there is no file to back up.")
    path = Path(url.database)
    if not path.is_file():
        raise BackupError(f"There is no database file at {path}.")
    return path


def backup_sqlite(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` with SQLite's online backup API; returns the page count.

    The copy is one consistent snapshot of committed data even while other processes write
    (WAL lets the reader proceed). It is written beside ``target``, checked, and only then
    moved into place, so ``target`` is never a half-written file. Readable by its owner only:
    it holds patient data.
    """
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name.")
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    partial = target.with_name(f".{target.name}.partial")
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        src = sqlite3.connect(source, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # One self-contained file, with no -wal beside it to lose in a copy.
            dst.execute("PRAGMA journal_mode = DELETE")
            check = dst.execute("PRAGMA integrity_check").fetchone()[0]
            pages = dst.execute("PRAGMA page_count").fetchone()[0]
        finally:
            dst.close()
            src.close()
        if check != "ok":
            raise BackupError(f"The copy failed SQLite's integrity check: {check}")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return int(pages)


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Copy the SQLite database to PATH (a new file) while the app keeps running."""
    try:
        source = sqlite_path(db.engine.url)
        pages = backup_sqlite(source, path)
    except (BackupError, sqlite3.Error) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up {source} to {path} ({pages} pages, integrity check ok).")


def init_app(app: Flask) -> None:
    app.cli.add_command(backup_command)
