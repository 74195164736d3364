"""``flask backup PATH``: a consistent SQLite copy while the app runs; restore as documented."""

from __future__ import annotations

import shutil
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest
from flask import Flask
from flask_migrate import upgrade

from screening import create_app
from screening.extensions import db
from screening.models import Patient, Submission

from .intake_helpers import complete_intake


def sqlite_app(path: Path, **config: object) -> Flask:
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": "localhost", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
        "INTAKE_MAX_PER_ADDRESS": 1000, **config,
    })
    return app


@pytest.fixture
def live(tmp_path) -> Flask:
    """A running app on its own SQLite file (whatever database the rest of the run uses)."""
    app = sqlite_app(tmp_path / "live.db")
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def emails(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return sorted(row[0] for row in conn.execute("SELECT email FROM patient"))


def intake(app: Flask, email: str) -> None:
    complete_intake(app.test_client(), about={"email": email})


def backup(app: Flask, target: Path):
    return app.test_cli_runner().invoke(args=["backup", str(target)])


def test_a_backup_taken_while_the_app_writes_holds_committed_data_only(live, tmp_path):
    intake(live, "before.backup@example.com")
    # Another worker is in the middle of a write when the backup starts.
    writer = sqlite3.connect(tmp_path / "live.db", isolation_level=None, timeout=30)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE patient SET email = 'uncommitted@example.com'")

    result = backup(live, tmp_path / "copy.db")

    writer.execute("ROLLBACK")
    writer.close()
    assert result.exit_code == 0, result.output
    assert "integrity check ok" in result.output
    copy = tmp_path / "copy.db"
    assert emails(copy) == ["before.backup@example.com"]
    with closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600  # it holds patient data
    assert not list(tmp_path.glob(".copy.db*"))  # no partial file left behind
    # The app carries on.
    intake(live, "after.backup@example.com")
    assert len(emails(tmp_path / "live.db")) == 2


def test_restore_brings_back_the_data_as_it_was_at_the_backup(live, tmp_path):
    database = tmp_path / "live.db"
    intake(live, "kept@example.com")
    assert backup(live, tmp_path / "nightly.db").exit_code == 0
    intake(live, "lost.after.backup@example.com")
    with live.app_context():
        kept = db.session.scalars(db.select(Submission).join(Patient).where(
            Patient.email == "kept@example.com")).one()
        db.session.delete(kept)
        db.session.delete(kept.patient)
        db.session.commit()
    assert emails(database) == ["lost.after.backup@example.com"]

    # The documented restore: stop the app, remove the write-ahead log files beside the
    # database, copy the backup in under a temporary name and rename it over the database.
    with live.app_context():
        db.engine.dispose()
    for leftover in ("live.db-wal", "live.db-shm"):
        (tmp_path / leftover).unlink(missing_ok=True)
    shutil.copyfile(tmp_path / "nightly.db", tmp_path / "live.db.restoring")
    (tmp_path / "live.db.restoring").replace(database)
    restarted = sqlite_app(database)

    with restarted.app_context():
        stored = db.session.scalars(db.select(Patient.email)).all()
        db.engine.dispose()
    assert stored == ["kept@example.com"]
    assert restarted.test_client().get("/healthz").json["database"] == "ok"


def test_an_existing_file_is_never_overwritten(live, tmp_path):
    target = tmp_path / "precious.db"
    target.write_text("not a backup")
    result = backup(live, target)
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert target.read_text() == "not a backup"


def test_a_missing_folder_is_reported(live, tmp_path):
    result = backup(live, tmp_path / "no" / "such" / "folder" / "b.db")
    assert result.exit_code != 0
    assert "does not exist" in result.output


def test_postgresql_is_refused_with_a_pointer_to_pg_dump(tmp_path):
    app = create_app({"TESTING": True, "SECRET_KEY": "test",
                      "SQLALCHEMY_DATABASE_URI": "postgresql://clinic@db.invalid/intake"})
    result = backup(app, tmp_path / "b.db")
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert not (tmp_path / "b.db").exists()


def test_a_missing_database_file_is_reported(tmp_path):
    app = sqlite_app(tmp_path / "never-created.db")
    result = backup(app, tmp_path / "b.db")
    assert result.exit_code != 0
    assert "no database file" in result.output
    assert not (tmp_path / "never-created.db").exists()  # nor was one created
