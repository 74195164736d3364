"""Faults: the database going away and coming back, a failure at commit, a worker killed."""

from __future__ import annotations

import contextlib
import os
import platform
import select
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from screening.extensions import db
from screening.intake import drafts
from screening.models import Draft, Submission

from .auth_helpers import login, make_user
from .conftest import TEST_DATABASE_URL, csrf_token, post_form
from .gunicorn_helpers import Browser, Gunicorn
from .intake_helpers import complete_intake, valid_steps

# --- a database that can be taken away -------------------------------------------------------


class TcpProxy:
    """A TCP relay in front of PostgreSQL that the test can switch off and on.

    Switched off, it refuses new connections and cuts the open ones, as a database restart or
    a network failure does.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self.connections: list[socket.socket] = []
        self.listener: socket.socket | None = None
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def up(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self.port = self.listener.getsockname()[1]
        self.stop.clear()
        self.thread = threading.Thread(target=self._accept, args=(self.listener,), daemon=True)
        self.thread.start()

    def down(self) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join(timeout=5)
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self.stop.is_set():
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                client, _ = listener.accept()
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
                self.connections += [client, upstream]
                for a, b in ((client, upstream), (upstream, client)):
                    threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class Outage:
    """An app on a database the test can take down and bring back, without touching the app."""

    app: Flask

    def down(self) -> None:
        raise NotImplementedError

    def up(self) -> None:
        raise NotImplementedError


class PostgresOutage(Outage):
    def __init__(self, make_app, database_url: str) -> None:
        url = make_url(database_url)
        self.proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
        self.proxy.up()
        proxied = url.set(host="127.0.0.1", port=self.proxy.port)
        self.app = make_app(SQLALCHEMY_DATABASE_URI=proxied.render_as_string(False))

    def down(self) -> None:
        self.proxy.down()

    def up(self) -> None:
        self.proxy.up()


class SqliteOutage(Outage):
    """The database file replaced by a directory: SQLite cannot open it."""

    def __init__(self, make_app, tmp_path: Path) -> None:
        self.path = tmp_path / "outage.db"
        self.aside = tmp_path / "outage.db.aside"
        self.app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{self.path}")
        with self.app.app_context():
            upgrade()

    def down(self) -> None:
        with self.app.app_context():
            # SQLite connections already open keep reading the moved file; close them, as a
            # failed disk would. Recovery below needs no such help.
            db.engine.dispose()
        self.path.rename(self.aside)
        self.path.mkdir()

    def up(self) -> None:
        self.path.rmdir()
        self.aside.rename(self.path)


@pytest.fixture
def outage(make_app, database_url, tmp_path) -> Iterator[Outage]:
    """The test run's kind of database (PostgreSQL when TEST_DATABASE_URL is set)."""
    make_app()  # the first app, through which make_app empties the test database afterwards
    if TEST_DATABASE_URL:
        fault: Outage = PostgresOutage(make_app, database_url)
        yield fault
        fault.proxy.down()
    else:
        fault = SqliteOutage(make_app, tmp_path)
        yield fault
        if fault.aside.exists():
            fault.up()


def draft_of(app: Flask, client) -> dict | None:
    with client.session_transaction() as session:
        token = session.get("draft_token")
    with app.app_context():
        draft = db.session.scalar(
            db.select(Draft).where(Draft.token_hash == drafts.hash_token(token or ""))
        )
        return dict(draft.data) if draft else None


def assert_unavailable(response) -> str:
    text = response.get_data(as_text=True)
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Nothing" in text and "saved" in text
    assert "Traceback" not in text and "OperationalError" not in text
    return text


# --- tests ---------------------------------------------------------------------------------


def test_an_outage_is_a_503_that_keeps_what_was_typed_and_the_app_recovers(outage):
    app = outage.app
    patient = app.test_client()
    for step in ("consent", "about"):
        assert post_form(patient, f"/intake/{step}", valid_steps()[step]).status_code == 302
    make_user(app, "casey.clinician@example.com")
    staff = app.test_client()
    assert login(staff).status_code == 302
    token = csrf_token(patient.get("/intake/about").get_data(as_text=True))
    changed = valid_steps(about={"first_name": "Robin", "phone": "555 010 9999"})["about"]

    outage.down()

    page = patient.get("/intake/phq9")
    assert_unavailable(page)
    health = patient.get("/healthz")
    assert health.status_code == 503 and health.json == {"database": "unavailable",
                                                         "status": "unavailable"}
    # The step is shown again, with what the patient typed, saying it was not saved.
    saved = patient.post("/intake/about", data={"csrf_token": token, **changed})
    text = assert_unavailable(saved)
    assert "could not save this page" in text
    assert 'value="Robin"' in text and 'value="555 010 9999"' in text
    assert 'name="csrf_token"' in text  # the patient can simply send it again
    # A signed-in clinician gets the same plain page: rendering it needs no database.
    assert_unavailable(staff.get("/clinician/password"))

    outage.up()

    assert patient.get("/healthz").json == {"database": "ok", "status": "ok"}
    assert draft_of(app, patient)["about"]["first_name"] == "Alex"  # nothing half-saved
    again = patient.post("/intake/about", data={"csrf_token": token, **changed})
    assert again.status_code == 302
    assert draft_of(app, patient)["about"]["first_name"] == "Robin"
    assert staff.get("/clinician/password").status_code == 200


def test_an_outage_at_the_first_step_creates_nothing(outage):
    app = outage.app
    patient = app.test_client()
    token = csrf_token(patient.get("/intake/consent").get_data(as_text=True))

    outage.down()
    refused = patient.post("/intake/consent", data={"csrf_token": token, "consent": "y"})
    assert_unavailable(refused)
    assert "could not save this page" in refused.get_data(as_text=True)
    outage.up()

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0
    with patient.session_transaction() as session:
        assert "draft_token" not in session
    accepted = patient.post("/intake/consent", data={"csrf_token": token, "consent": "y"})
    assert accepted.status_code == 302
    assert draft_of(app, patient)["consent"]["consent"] is True


def test_health_is_public_json_without_details(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"database": "ok", "status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def failing_commit(error: Exception):
    def commit() -> None:
        db.session.flush()  # the rows are written inside the transaction…
        raise error  # …and the commit fails: a full disk, a lost connection, a bug

    return commit


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (OperationalError("COMMIT", {}, Exception("disk I/O error")), 503),
        (RuntimeError("unexpected"), 500),
    ],
    ids=["database-error", "other-error"],
)
def test_a_failure_at_commit_stores_nothing_and_shows_no_confirmation(
    make_app, monkeypatch, error, status
):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    complete_intake(client, submit=False)
    before = draft_of(app, client)
    token = csrf_token(client.get("/intake/review").get_data(as_text=True))

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", failing_commit(error))
        response = client.post("/intake/review", data={"csrf_token": token})

    assert response.status_code == status
    assert "Your answers have been sent" not in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
    assert draft_of(app, client) == before  # the draft is intact
    done = client.get("/intake/done")
    assert done.status_code == 302  # no confirmation to be had
    # Once the fault is gone, the same draft submits normally, once.
    resubmitted = client.post("/intake/review", data={"csrf_token": token})
    assert resubmitted.location.endswith("/intake/done")
    assert "Your answers have been sent" in client.get("/intake/done").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Submission.id))) == 1


def test_the_outage_helpers_really_cut_the_database(outage):
    """The fault injection itself works (otherwise the tests above would prove nothing)."""
    with outage.app.app_context():
        db.session.execute(db.text("SELECT 1 FROM alembic_version"))
        db.session.rollback()
        outage.down()
        with pytest.raises(OperationalError):
            db.session.execute(db.text("SELECT 1 FROM alembic_version"))
        db.session.rollback()
        outage.up()
        db.session.execute(db.text("SELECT 1 FROM alembic_version"))
        db.session.rollback()



# --- a worker killed in the middle of a submission -------------------------------------------

#: Sleep system calls (SQLite's busy handler sleeps between tries for a lock), by machine.
SLEEP_SYSCALLS = {"x86_64": {"35", "230"}, "aarch64": {"101", "115"}}


def wait_for(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def submit_blocked_by_a_lock(
    database_url: str, worker: int, start_submit: Callable[[], None]
) -> Iterator[None]:
    """Hold a lock the submit needs, then start it; the body runs once it waits for the lock.

    The lock is taken before the submit starts, so a fast submit cannot slip past it, and it
    is always released, so a failure here cannot leave the database locked for later tests.

    SQLite: the write lock, so the submit's BEGIN IMMEDIATE waits. PostgreSQL: the row of the
    submissions tally, which the insert's trigger updates: the submit has locked the draft and
    inserted its (uncommitted) patient, and waits inside its insert of the submission, so the
    kill lands in the middle of the transaction.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database, isolation_level=None, timeout=30)
        holder.execute("BEGIN IMMEDIATE")
        try:
            start_submit()
            sleeps = SLEEP_SYSCALLS.get(platform.machine())
            syscall = Path(f"/proc/{worker}/syscall")
            if sleeps:
                wait_for(lambda: syscall.read_text().split()[0] in sleeps, "the worker to wait")
            else:  # an unknown machine: give the worker time to reach the lock
                time.sleep(2)
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as holder, psycopg.connect(libpq, autocommit=True) as watcher:
        holder.execute("SELECT submissions FROM submission_tally FOR UPDATE")

        def inserting_waits() -> bool:
            return bool(watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO submission %'"
            ).fetchone()[0])

        try:
            start_submit()
            wait_for(inserting_waits, "the submit to wait inside its insert")
            yield
        finally:
            holder.rollback()


@pytest.mark.slow
def test_a_worker_killed_during_a_submit_leaves_the_database_consistent(
    make_app, database_url, tmp_path
):
    app = make_app()
    with Gunicorn(database_url, tmp_path, workers=1) as server:
        patient = Browser(server.port)
        token = patient.fill_in(valid_steps())
        with app.app_context():
            before = dict(db.session.scalars(db.select(Draft)).one().data)
        [worker] = server.worker_pids()
        outcome: dict[str, object] = {}

        def submit() -> None:
            try:
                outcome["reply"] = patient.submit(token)
            except OSError as error:  # the connection dies with the worker
                outcome["error"] = error

        thread = threading.Thread(target=submit)
        with submit_blocked_by_a_lock(database_url, worker, thread.start):
            os.kill(worker, signal.SIGKILL)
            thread.join(timeout=60)
        assert not thread.is_alive()
        assert "reply" not in outcome or outcome["reply"].status >= 500  # no confirmation

        with app.app_context():
            assert db.session.scalar(db.select(db.func.count(Submission.id))) == 0
            draft = db.session.scalars(db.select(Draft)).one()
            assert draft.data == before  # the patient's answers are all still there
            db.session.rollback()

        server.wait_until_serving()  # gunicorn has started a new worker
        assert server.worker_pids() != [worker]
        reply = patient.submit(token)
        assert reply.status == 302 and reply.location.endswith("/intake/done")
        reference = patient.confirmation_reference()
    with app.app_context():
        stored = db.session.scalars(db.select(Submission)).all()
        assert [s.reference for s in stored] == [reference]
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0
