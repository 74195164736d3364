"""Plain, friendly error pages; a database outage is a 503; nothing about patients is logged."""

from __future__ import annotations

import logging
import traceback
from contextlib import suppress
from types import MethodType, TracebackType

from flask import Flask, Response, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db, login_manager

log = logging.getLogger(__name__)

#: What SQLAlchemy raises when the database cannot be reached, opened or is locked too long.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
#: Seconds a client is asked to wait after a 503.
RETRY_AFTER = 30


def render_error(code: int, **context: object) -> Response:
    """The error page for ``code``, rendered without touching the database."""
    forget_user()
    return Response(render_template("errors/error.html", code=code, **context), code)


def forget_user() -> None:
    """Treat the rest of this request as anonymous.

    The database may be what failed: Flask-Login's context processor would otherwise load the
    signed-in user from it while the error page renders, and fail a second time.
    """
    g._login_user = login_manager.anonymous_user()


def rollback() -> None:
    """Discard the failed transaction; a dead connection may refuse even that."""
    with suppress(SQLAlchemyError):
        db.session.rollback()


def unavailable(response: Response) -> Response:
    """Mark ``response`` as a 503 that the client may retry later."""
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def handle_http_error(error: HTTPException) -> Response:
    response = render_error(error.code or 500)
    # Keep the headers werkzeug gives the error: Allow on a 405, Retry-After on a 429/503.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    if response.status_code == 503 and "Retry-After" not in response.headers:
        unavailable(response)
    return response


def handle_csrf_error(error: CSRFError) -> Response:
    return render_error(400, csrf=True)


def database_failed(error: Exception) -> None:
    """Log a database failure without its details, and drop the failed transaction."""
    # The exception's class only: its message may quote the statement and its parameters.
    log.error("database unavailable: %s", type(getattr(error, "orig", None) or error).__name__)
    rollback()
    forget_user()


def handle_database_unavailable(error: Exception) -> Response:
    database_failed(error)
    return unavailable(render_error(503))


def handle_unexpected(error: InternalServerError) -> Response:
    original = error.original_exception
    if isinstance(original, DATABASE_UNAVAILABLE):
        return handle_database_unavailable(original)
    rollback()
    return render_error(500)


def log_exception_without_data(
    app: Flask,
    exc_info: tuple[type[BaseException], BaseException, TracebackType]
    | tuple[None, None, None],
) -> None:
    """Log an unhandled exception's type and stack, never its message or the request data.

    Flask's own logger prints the message, and messages may quote patient answers (a
    ``ValueError`` echoing the value, SQL parameters, …). The stack shows code, not values.
    """
    exc_type, _exc, tb = exc_info
    app.logger.error(
        "unhandled %s in %s %s\n%s",
        exc_type.__name__ if exc_type else "exception",
        request.method,
        request.endpoint,
        "".join(traceback.format_tb(tb)),
    )


#: Loggers that write data values when allowed to: SQLAlchemy logs statements at INFO and
#: every fetched row (names, answers) at DEBUG as soon as the root logger is that verbose.
DATA_LOGGERS = ("sqlalchemy",)


def init_app(app: Flask) -> None:
    app.log_exception = MethodType(log_exception_without_data, app)  # type: ignore[method-assign]
    if not app.config.get("SQLALCHEMY_ECHO"):  # echo is asked for explicitly, for debugging
        for name in DATA_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    for error_class in DATABASE_UNAVAILABLE:
        app.register_error_handler(error_class, handle_database_unavailable)
    app.register_error_handler(InternalServerError, handle_unexpected)
