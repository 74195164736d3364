"""Shared fixtures. Set TEST_DATABASE_URL to run the whole suite against PostgreSQL.

Each test run gets a database of its own (a temporary SQLite file, or a fresh PostgreSQL
database created beside the one named in TEST_DATABASE_URL and dropped at the end), migrated
with the project's Alembic migrations, so concurrent runs never share state. Tables are
emptied after every test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from screening import create_app
from screening.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgresql`` need TEST_DATABASE_URL: on a SQLite run they are
    deselected (counted as such in the summary, and said in the header), not skipped."""
    if TEST_DATABASE_URL:
        return
    left_out = [item for item in items if item.get_closest_marker("postgresql")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


def pytest_report_header(config: pytest.Config) -> str:
    if TEST_DATABASE_URL:
        return "database: PostgreSQL (TEST_DATABASE_URL)"
    return ("database: SQLite; tests marked postgresql are deselected"
            " (set TEST_DATABASE_URL to run them)")


def _postgres_test_database(base_url: str) -> Iterator[str]:
    url = make_url(base_url)
    name = f"screening_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for this test run."""
    if TEST_DATABASE_URL:
        url_source = _postgres_test_database(TEST_DATABASE_URL)
        url = next(url_source)
    else:
        url_source = None
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    migrated = create_app(_test_config(url))
    with migrated.app_context():
        upgrade()
        db.engine.dispose()
    yield url
    if url_source is not None:
        next(url_source, None)


def _test_config(url: str, **overrides: object) -> dict[str, object]:
    config: dict[str, object] = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        "SESSION_COOKIE_SECURE": False,
        "SERVER_NAME": "localhost",
    }
    config.update(overrides)
    return config


@pytest.fixture
def make_app(database_url: str) -> Iterator:
    """Build an app on the test database; several apps share it, like several workers."""
    apps: list[Flask] = []

    def build(**overrides: object) -> Flask:
        app = create_app(_test_config(database_url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if apps:
        _empty_tables(apps[0])


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def app(make_app) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()



def csrf_token(html: str) -> str:
    """The CSRF token from a rendered form, whichever attribute order WTForms used."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def post_form(client: FlaskClient, url: str, data: dict[str, object], **kwargs):
    """GET the page for its CSRF token, then POST ``data`` with it, as a browser would."""
    page = client.get(url)
    return client.post(url, data={"csrf_token": csrf_token(page.get_data(as_text=True)), **data},
                       **kwargs)
