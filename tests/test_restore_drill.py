"""The restore drill of docs/deploy.md, as a test: back up with the shipped script
(deploy/bin/screening-backup, which the backup timer runs), wipe the database, restore it the
documented way, and the clinicians' CSV export is byte for byte what it was, every table holds
what it held, and the app takes new intakes again.

SQLite runs on every pass (the drill makes its own database file); PostgreSQL only when
TEST_DATABASE_URL is set (marker ``postgresql``), on a database of its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from screening import PROJECT_ROOT, create_app
from screening.extensions import db

from .auth_helpers import login, make_user
from .clinician_helpers import add_submission
from .conftest import TEST_DATABASE_URL, _postgres_test_database, _test_config
from .intake_helpers import complete_intake

BACKUP_SCRIPT = PROJECT_ROOT / "deploy" / "bin" / "screening-backup"
SECRET_KEY = "restore-drill-secret-key"


def drill_app(url: str) -> Flask:
    return create_app(_test_config(url, INTAKE_MAX_PER_ADDRESS=1000, SECRET_KEY=SECRET_KEY))


def fill(app: Flask) -> None:
    """A few real intakes, stored submissions with notes, and a clinician who has signed in."""
    for number in range(3):
        about = {"first_name": f"Drill{number}", "email": f"drill.{number}@example.com"}
        complete_intake(app.test_client(), about=about)
    add_submission(app, first_name="Noted", last_name="Samplewood", notes="Called back; booked.")
    add_submission(app, first_name="Urgent", phq9=(3, 3, 3, 3, 3, 3, 3, 3, 2))
    make_user(app, "drill.clinician@example.com")


def export(app: Flask) -> bytes:
    client = app.test_client()
    assert login(client, "drill.clinician@example.com").status_code == 302
    response = client.get("/clinician/export.csv")
    assert response.status_code == 200
    body = response.get_data()
    assert body.count(b"\r\n") == 1 + 5  # the header and the five submissions
    return body


def table_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        counts = {table.name: db.session.scalar(select(func.count()).select_from(table))
                  for table in db.metadata.sorted_tables}
        db.session.remove()
        db.engine.dispose()
    return counts


def health(url: str) -> int:
    """What /healthz answers on ``url`` now."""
    app = drill_app(url)
    status = app.test_client().get("/healthz").status_code
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    return status


def run_backup(database_url: str, backup_dir: Path) -> Path:
    """The shipped script, with the settings the environment file gives it; returns the file."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCREENING_", "FLASK_"))}
    env |= {"DATABASE_URL": database_url, "SCREENING_SECRET_KEY": SECRET_KEY,
            "BACKUP_DIR": str(backup_dir), "BACKUP_KEEP_DAYS": "14"}
    before = set(backup_dir.iterdir())
    result = subprocess.run([str(BACKUP_SCRIPT)], env=env, capture_output=True, text=True,
                            timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    (made,) = set(backup_dir.iterdir()) - before
    assert (made.stat().st_mode & 0o077) == 0, "a backup must be readable by its owner only"
    return made


@pytest.fixture
def backup_dir(tmp_path) -> Path:
    """The backup folder, with one backup 20 days old (to be rotated out) and a file that is
    not a backup (to be left alone)."""
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    for name in ("screening-20200101T000000Z.db", "screening-20200101T000000Z.dump",
                 "notes.txt"):
        (folder / name).write_text("old")
        twenty_days_ago = time.time() - 20 * 86400
        os.utime(folder / name, (twenty_days_ago, twenty_days_ago))
    return folder


def assert_rotated(backup_dir: Path, made: Path) -> None:
    assert sorted(p.name for p in backup_dir.iterdir()) == sorted([made.name, "notes.txt"])


def test_sqlite_backup_wipe_restore_gives_back_the_same_export(tmp_path, backup_dir):
    database = tmp_path / "screening.db"
    url = f"sqlite:///{database}"
    app = drill_app(url)
    with app.app_context():
        upgrade()
    fill(app)
    exported = export(app)
    counts = table_counts(app)

    made = run_backup(url, backup_dir)
    assert made.suffix == ".db"
    assert_rotated(backup_dir, made)

    # The disaster: the database and its write-ahead log are gone.
    for path in tmp_path.glob("screening.db*"):
        path.unlink()
    assert health(url) == 503

    # The documented restore: the app stopped (as here), copy in under a temporary name,
    # then rename over the database.
    shutil.copyfile(made, tmp_path / "screening.db.new")
    (tmp_path / "screening.db.new").replace(database)

    restored = drill_app(url)
    assert table_counts(restored) == counts
    assert export(restored) == exported
    complete_intake(restored.test_client(), about={"email": "after.restore@example.com"})
    assert table_counts(restored)["submission"] == counts["submission"] + 1


@pytest.fixture
def own_postgres_database() -> Iterator[str]:
    """A PostgreSQL database for this test alone: the drill drops it."""
    assert TEST_DATABASE_URL
    source = _postgres_test_database(TEST_DATABASE_URL)
    yield next(source)
    next(source, None)


def libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.mark.postgresql
def test_postgresql_dump_drop_restore_gives_back_the_same_export(own_postgres_database,
                                                                 backup_dir):
    url = own_postgres_database
    app = drill_app(url)
    with app.app_context():
        upgrade()
    fill(app)
    exported = export(app)
    counts = table_counts(app)

    made = run_backup(url, backup_dir)
    assert made.suffix == ".dump"
    assert_rotated(backup_dir, made)

    # The disaster: the database is dropped.
    name = make_url(url).database
    admin = make_url(url).set(database="postgres")
    with psycopg.connect(libpq_url(admin.render_as_string(hide_password=False)),
                         autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    assert health(url) == 503

    # The documented restore, into the new empty database.
    result = subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction",
         f"--dbname={libpq_url(url)}", str(made)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr

    restored = drill_app(url)
    assert table_counts(restored) == counts
    assert export(restored) == exported
    # The sequences came back too: new rows get new ids.
    complete_intake(restored.test_client(), about={"email": "after.restore@example.com"})
    assert table_counts(restored)["submission"] == counts["submission"] + 1
