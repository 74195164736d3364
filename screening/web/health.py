"""``/healthz``: a public, data-free report of whether the app can reach its database."""

from __future__ import annotations

from flask import Flask, Response, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from .errors import rollback, unavailable


def healthz() -> Response:
    """200 with ``{"database": "ok"}`` when the migrated database answers, else 503."""
    try:
        # A real table, so that a missing or replaced database file is not reported healthy.
        db.session.execute(text("SELECT version_num FROM alembic_version"))
        db.session.rollback()
    except SQLAlchemyError:  # unreachable, locked, or not migrated: not healthy either way
        rollback()
        return unavailable(jsonify(status="unavailable", database="unavailable"))
    return jsonify(status="ok", database="ok")


def init_app(app: Flask) -> None:
    # Endpoint "healthz": the access check lists it among the public endpoints.
    app.add_url_rule("/healthz", "healthz", healthz, methods=["GET"])
