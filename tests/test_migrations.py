"""The migrations build what the models describe, and the search index and the tally take in
the rows a clinic already has."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask_migrate import check, downgrade, upgrade

from screening import create_app
from screening.clinician import queries
from screening.extensions import db

from .clinician_helpers import add_submission
from .conftest import TEST_DATABASE_URL, _postgres_test_database, _test_config

BEFORE_SEARCH_INDEX = "ee21095ebb00"
BEFORE_TALLY = "848782f7f769"


def test_the_models_and_the_migrations_agree(app):
    with app.app_context():
        check()  # exits (SystemExit) when autogenerate would write a migration


@pytest.fixture
def fresh_database(tmp_path) -> Iterator[str]:
    """An empty database of this test's own: it is migrated down and up."""
    if TEST_DATABASE_URL:
        source = _postgres_test_database(TEST_DATABASE_URL)
        yield next(source)
        next(source, None)
    else:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"


def references_found(app, search: str) -> set[str]:
    with app.app_context():
        page = queries.dashboard_page(queries.Filters(search=search), queries.QUEUE, False, 1)
        return {row.reference for row in page.rows}


def test_the_search_index_covers_rows_stored_before_it(fresh_database):
    app = create_app(_test_config(fresh_database))
    with app.app_context():
        upgrade(revision=BEFORE_SEARCH_INDEX)
    robin = add_submission(app, first_name="Robin", last_name="Samplewood")
    rowan = add_submission(app, first_name="Rowan", last_name="Samplewood")
    with app.app_context():
        upgrade()
    assert references_found(app, "samplewood") == {robin, rowan}
    assert references_found(app, "robin sample") == {robin}
    # And back: down, a row added meanwhile, up again.
    with app.app_context():
        downgrade(revision=BEFORE_SEARCH_INDEX)
    drew = add_submission(app, first_name="Drew", last_name="Samplewood")
    with app.app_context():
        upgrade()
        check()
    assert references_found(app, "samplewood") == {robin, rowan, drew}
    with app.app_context():
        db.engine.dispose()


def dashboard_total(app) -> int:
    with app.app_context():
        return queries.dashboard_page(queries.Filters(), queries.QUEUE, False, 1).total


def test_the_tally_counts_rows_stored_before_it(fresh_database):
    app = create_app(_test_config(fresh_database))
    with app.app_context():
        upgrade()
        downgrade(revision=BEFORE_TALLY)
    for _ in range(3):
        add_submission(app)
    with app.app_context():
        upgrade()
    assert dashboard_total(app) == 3
    add_submission(app)
    assert dashboard_total(app) == 4
    with app.app_context():
        db.engine.dispose()
