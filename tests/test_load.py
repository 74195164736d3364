"""Concurrency against a real gunicorn with 4 workers on the test run's database.

200 complete intakes sent at once from 16 threads, each patient with its own cookies: all
stored, once each, with no 5xx. And two identical final submits at the same instant store one
submission.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from screening.extensions import db
from screening.models import Draft, Submission

from .gunicorn_helpers import Browser, Gunicorn
from .intake_helpers import valid_steps

pytestmark = pytest.mark.slow

INTAKES = 200
THREADS = 16
TIMEOUT = 600


def patient_steps(number: int):
    return valid_steps(
        about={"first_name": f"Loadtest{number}", "email": f"load.{number}@example.com"},
        phq9={"phq9_9": str(number % 4)},  # a quarter of them each item-9 answer
    )


@pytest.fixture(scope="module")
def gunicorn(database_url, tmp_path_factory):
    log_dir = tmp_path_factory.mktemp("gunicorn")
    with Gunicorn(database_url, log_dir, workers=4, INTAKE_MAX_PER_ADDRESS=100_000) as running:
        yield running


@pytest.fixture
def server(gunicorn, make_app):
    make_app()  # empties the test database after each test
    return gunicorn


def stored(make_app) -> list[Submission]:
    app = make_app()
    with app.app_context():
        rows = db.session.scalars(db.select(Submission)).all()
        for row in rows:
            _ = row.patient.email  # read now: the objects outlive their session
        db.session.expunge_all()
        return list(rows)


def test_200_concurrent_intakes_are_all_stored_once_without_errors(server, make_app):
    def one_patient(number: int) -> tuple[str, list[int]]:
        browser = Browser(server.port)
        token = browser.fill_in(patient_steps(number))
        reply = browser.submit(token)
        assert reply.status == 302 and reply.location.endswith("/intake/done"), reply.status
        return browser.confirmation_reference(), browser.statuses

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(one_patient, range(INTAKES), timeout=TIMEOUT))

    statuses = Counter(status for _, seen in results for status in seen)
    assert not [s for s in statuses if s >= 500], statuses
    submissions = stored(make_app)
    assert len(submissions) == INTAKES
    by_email = Counter(s.patient.email for s in submissions)
    assert set(by_email) == {f"load.{n}@example.com" for n in range(INTAKES)}
    assert max(by_email.values()) == 1
    # Each patient's confirmation names their own stored submission.
    references = {s.patient.email: s.reference for s in submissions}
    for number, (reference, _) in enumerate(results):
        assert references[f"load.{number}@example.com"] == reference
    assert sum(s.urgent for s in submissions) == INTAKES // 4 * 3
    app = make_app()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Draft.id))) == 0


def test_two_identical_submits_at_the_same_instant_store_one_submission(server, make_app):
    rounds = 5
    for number in range(rounds):
        first = Browser(server.port)
        token = first.fill_in(patient_steps(number))
        second = Browser(server.port, cookies=dict(first.cookies))  # the same cookie
        barrier = threading.Barrier(2, timeout=30)

        def submit(browser: Browser, barrier=barrier, token=token):
            barrier.wait()
            return browser.submit(token)

        with ThreadPoolExecutor(2) as pool:
            replies = list(pool.map(submit, [first, second], timeout=120))

        for reply in replies:
            assert reply.status == 302 and reply.location.endswith("/intake/done"), reply.status
        # Both tabs show the same confirmation.
        assert first.confirmation_reference() == second.confirmation_reference()

    by_email = Counter(s.patient.email for s in stored(make_app))
    assert by_email == {f"load.{n}@example.com": 1 for n in range(rounds)}


def test_the_server_header_reveals_no_version(server):
    reply = Browser(server.port).get("/")
    assert reply.status == 200
    server_header = reply.headers.get("Server", "")
    assert not any(ch.isdigit() for ch in server_header), server_header
    assert reply.headers["Content-Security-Policy"].startswith("default-src 'self'")
