"""Plain, friendly error pages; unexpected failures roll back and log without patient data."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

log = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 413, 429, 500, 503)


def render_error(code: int, **context):  # type: ignore[no-untyped-def]
    response = render_template("errors/error.html", code=code, **context)
    return response, code


def handle_http_error(error: HTTPException):  # type: ignore[no-untyped-def]
    code = error.code or 500
    response, code = render_error(code if code in HANDLED else 400)
    headers = {}
    if code == 405 and error.valid_methods:  # type: ignore[attr-defined]
        headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response, code, headers


def handle_csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
    return render_error(400, csrf=True)


def handle_database_unavailable(error: OperationalError):  # type: ignore[no-untyped-def]
    # Log the exception class only: the statement's parameters may hold patient answers.
    log.error("database unavailable: %s", type(error.orig).__name__)
    db.session.rollback()
    response, code = render_error(503)
    return response, code, {"Retry-After": "30"}


def handle_unexpected(error: Exception):  # type: ignore[no-untyped-def]
    original = getattr(error, "original_exception", None) or error
    if isinstance(original, OperationalError):
        return handle_database_unavailable(original)
    log.error("unexpected error: %s", type(original).__name__)
    db.session.rollback()
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InternalServerError, handle_unexpected)
