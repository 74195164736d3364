"""Transactions: the patient's page views never write, and so never wait for a writer.

On SQLite every transaction takes the write lock up front (BEGIN IMMEDIATE) except the intake's
GET and HEAD requests, which read with a plain BEGIN. That is safe only while none of them
writes: the first test walks every intake page, in every state, and fails on any INSERT,
UPDATE or DELETE sent while one is served. The second holds the write lock from another
connection and checks that the pages still open while a save still waits.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import psycopg
import pytest
from flask import Flask, has_request_context, request, request_started
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url

from screening import config
from screening.extensions import db
from screening.web import database
from screening.web.database import reads_only

from .conftest import csrf_token, post_form
from .intake_helpers import valid_steps, walk_to

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|UPSERT|MERGE|CREATE|DROP|ALTER)\b", re.I)
STEP_PAGES = [f"/intake/{key}" for key in valid_steps()]
PAGES = ["/", "/crisis", *STEP_PAGES, "/intake/review", "/intake/done"]
DOB = {"date_of_birth-day": "14", "date_of_birth-month": "6", "date_of_birth-year": "1984"}


@dataclass
class Statement:
    method: str
    path: str
    blueprint: str | None
    endpoint: str | None
    sql: str


@dataclass
class StatementSpy:
    """Every SQL statement sent while a request is served, with that request; and every
    (method, endpoint) served, whether it queried or not."""

    statements: list[Statement] = field(default_factory=list)
    served: set[tuple[str, str | None]] = field(default_factory=set)

    def request_started(self, _app: Flask, **_extra: object) -> None:
        self.served.add((request.method, request.endpoint))

    def __call__(self, _conn, _cursor, sql, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        if has_request_context():
            self.statements.append(Statement(request.method, request.path, request.blueprint,
                                             request.endpoint, sql))

    def writes(self, *methods: str) -> list[Statement]:
        return [s for s in self.statements
                if s.method in methods and s.blueprint == "intake" and WRITE.match(s.sql)]

    def endpoints(self, method: str) -> set[str]:
        return {endpoint for m, endpoint in self.served if m == method and endpoint}


@contextmanager
def spying(app: Flask) -> Iterator[StatementSpy]:
    spy = StatementSpy()
    with app.app_context():
        engine: Engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    request_started.connect(spy.request_started, app)
    try:
        yield spy
    finally:
        request_started.disconnect(spy.request_started, app)
        event.remove(engine, "before_cursor_execute", spy)


def view(client: FlaskClient, path: str) -> str:
    """Open ``path`` as a browser does, then HEAD it as link checkers do; returns the page."""
    response = client.get(path)
    assert response.status_code < 500, path
    assert client.head(path).status_code < 500, path
    return response.get_data(as_text=True)


def view_everything(client: FlaskClient) -> None:
    for path in PAGES:
        view(client, path)


def intake_get_endpoints(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("intake.") and "GET" in (rule.methods or ())}


def test_no_intake_page_view_writes_to_the_database(app):
    with spying(app) as spy:
        # A new visitor, before any draft: every page, and the ones that send them back.
        newcomer = app.test_client()
        view_everything(newcomer)
        view(newcomer, "/intake/saved")
        view(newcomer, "/intake/resume/not-a-real-link")
        view(newcomer, "/intake/no-such-step")

        # A patient answering step by step (item 9 above 0: the crisis panel shows), looking
        # at every page after each save, then submitting and coming back.
        patient = app.test_client()
        for key, data in valid_steps(phq9={"phq9_9": "2"}).items():
            assert post_form(patient, f"/intake/{key}", data).status_code == 302, key
            view_everything(patient)
        assert post_form(patient, "/intake/review", {}).status_code == 302
        assert "crisis" in view(patient, "/intake/done").lower()
        view_everything(patient)

        # "Save and finish later" halfway through a step, the saved page, then the resume link
        # in another browser, and the half-typed step shown back.
        later = app.test_client()
        walk_to(later, "phq9")
        saving = post_form(later, "/intake/phq9", {"phq9_1": "3", "action": "save_later"})
        assert saving.location == "/intake/saved"
        saved = view(later, "/intake/saved")
        link = re.search(r'href="https?://[^/"]+(/intake/resume/[^"]+)"', saved)
        assert link, "no resume link on the saved page"
        elsewhere = app.test_client()
        resume_page = view(elsewhere, link.group(1))
        resumed = elsewhere.post(link.group(1), data={"csrf_token": csrf_token(resume_page),
                                                      **DOB})
        assert resumed.location == "/intake/phq9"
        view_everything(elsewhere)

    assert spy.writes("POST"), "the spy saw no write at all: it is not listening"
    page_view_writes = spy.writes("GET", "HEAD")
    assert page_view_writes == [], "an intake GET/HEAD wrote: it needs BEGIN IMMEDIATE back"
    # Every intake page that answers GET was opened, so a new page cannot slip past this test.
    assert spy.endpoints("GET") >= intake_get_endpoints(app)
    assert spy.endpoints("HEAD") >= intake_get_endpoints(app)


def test_only_the_intake_page_views_start_without_the_write_lock(app):
    cases = {
        ("GET", "/"): True,
        ("GET", "/intake/about"): True,
        ("HEAD", "/intake/review"): True,
        ("POST", "/intake/about"): False,
        ("POST", "/intake/review"): False,
        ("GET", "/clinician/"): False,  # staff views may write (the session touch, the audit)
        ("GET", "/clinician/login"): False,
        ("GET", "/healthz"): False,
    }
    for (method, path), expected in cases.items():
        with app.test_request_context(path, method=method):
            assert reads_only() is expected, (method, path)
    with app.app_context():
        assert reads_only() is False  # commands and background work write


def test_page_views_read_without_a_transaction_on_postgresql_and_saves_keep_one(app):
    """PostgreSQL: a page view's one SELECT runs on its own (no BEGIN/ROLLBACK round trips),
    and the same pooled connection is transactional again for the next save. SQLite: both
    run in a transaction (the page view's a deferred one, see the test above)."""
    with app.app_context():
        engine: Engine = db.engine
    postgresql = engine.dialect.name == "postgresql"
    seen: list[tuple[str, bool]] = []

    def after_execute(conn, _cursor, _statement, *_args):  # type: ignore[no-untyped-def]
        if has_request_context() and request.blueprint == "intake":
            raw = conn.connection.dbapi_connection
            in_transaction = (raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
                              if postgresql else raw.in_transaction)
            seen.append((request.method, in_transaction))

    event.listen(engine, "after_cursor_execute", after_execute)
    try:
        patient = app.test_client()
        walk_to(patient, "phq9")
        seen.clear()
        for _ in range(2):  # a view then a save, twice: the pooled connection goes back and forth
            patient.get("/intake/about")
            assert post_form(patient, "/intake/about", valid_steps()["about"]).status_code == 302
    finally:
        event.remove(engine, "after_cursor_execute", after_execute)

    assert {method for method, _ in seen} == {"GET", "POST"}
    assert all(in_transaction for method, in_transaction in seen if method == "POST")
    assert all(in_transaction is not postgresql for method, in_transaction in seen
               if method == "GET")


# --- a writer holding the lock ------------------------------------------------------------------


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection in the middle of writing the drafts, until the block ends.

    SQLite: the database's write lock (BEGIN IMMEDIATE, a row changed). PostgreSQL: the draft
    table locked against every writer (EXCLUSIVE mode still lets plain reads through).
    """
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        holder = sqlite3.connect(url.database or "", isolation_level=None, timeout=30)
        try:
            holder.execute("BEGIN IMMEDIATE")
            holder.execute("UPDATE draft SET updated_at = updated_at")
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as holder:
        try:
            holder.execute("LOCK TABLE draft IN EXCLUSIVE MODE")
            holder.execute("UPDATE draft SET updated_at = updated_at")
            yield
        finally:
            holder.rollback()


@pytest.fixture
def impatient_app(make_app, database_url, monkeypatch) -> Flask:
    """An app that gives up on a lock after half a second, so a page stuck behind it fails
    (with a 503) instead of waiting for the lock's 15 seconds."""
    monkeypatch.setattr(database, "SQLITE_BUSY_TIMEOUT_MS", 500)
    options = dict(config.SQLALCHEMY_ENGINE_OPTIONS)
    if make_url(database_url).get_backend_name() != "sqlite":
        options["connect_args"] = {"options": "-c lock_timeout=500"}
    return make_app(SQLALCHEMY_ENGINE_OPTIONS=options)


def test_pages_open_while_another_worker_holds_the_write_lock(impatient_app, database_url):
    patient = impatient_app.test_client()
    walk_to(patient, "gad7")
    gad7_token = csrf_token(patient.get("/intake/gad7").get_data(as_text=True))

    with write_lock_held(database_url):
        for path in ["/", "/crisis", "/intake/consent", "/intake/about", "/intake/phq9",
                     "/intake/gad7"]:
            for method in ("GET", "HEAD"):
                response = patient.open(path, method=method)
                assert response.status_code == 200, (method, path, response.status_code)
        assert "Alex" in patient.get("/intake/about").get_data(as_text=True)  # the draft's
        # A save still waits for the lock (and here gives up): only page views skip it.
        waiting = patient.post("/intake/gad7", data={"csrf_token": gad7_token,
                                                     **valid_steps()["gad7"]})
        assert waiting.status_code == 503

    saved = patient.post("/intake/gad7", data={"csrf_token": gad7_token, **valid_steps()["gad7"]})
    assert saved.status_code == 302
