"""Who may see what: deny by default, server-side staff sessions, the admin-only marker.

Every request is refused unless its endpoint is on the public allowlist or a signed-in,
active staff member makes it. Flask-Login carries a random session token (never the user
id); the token's hash names a ``UserSession`` row that signing out, a password change or a
deactivation ends, so a copied cookie stops working at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import joinedload

from ..clock import utcnow
from ..extensions import db, login_manager
from ..models import User, UserSession
from ..web.errors import rollback
from ..web.tokens import hash_token, new_token
from .forms import LoginForm

#: Endpoints anyone may reach. Everything else needs a signed-in, active account.
PUBLIC_ENDPOINTS = frozenset(
    {"static", "staff.login", "healthz", "questionnaires.fhir_questionnaire"}
)
#: Blueprints whose every endpoint is public: the patient intake.
PUBLIC_BLUEPRINTS = frozenset({"intake"})
#: Where an account that must change its password may still go.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"staff.password", "staff.logout"})
#: last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=1)

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Staff:
    """Who is signed in, as plain values the staff layout can show without a query."""

    email: str
    is_admin: bool
    must_change_password: bool


def is_public(endpoint: str | None) -> bool:
    if endpoint is None:
        return False
    return endpoint in PUBLIC_ENDPOINTS or endpoint.split(".", 1)[0] in PUBLIC_BLUEPRINTS


def is_admin_only(view: Callable[..., Any]) -> bool:
    return bool(getattr(view, "admin_only", False))


def admin_required(view: F) -> F:
    """Mark a view as for admins only; clinicians get 403 (checked here and before_request)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not (current_user.is_authenticated and current_user.is_admin):
            abort(403)
        return view(*args, **kwargs)

    wrapper.admin_only = True  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def is_safe_next(target: str | None) -> bool:
    """True for a path on this site: one leading slash, no scheme, host, backslash or space."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    # Browsers read "\" as "/" and drop tabs and newlines, so "/\evil.example" is off-site.
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


# -- sessions ---------------------------------------------------------------------------------


def start_session(user: User, now: dt.datetime) -> str:
    """Open a new session for ``user`` (in the current transaction); returns its token."""
    token = new_token()
    db.session.add(
        UserSession(token_hash=hash_token(token), user=user, created_at=now, last_seen_at=now)
    )
    user.session_token = token
    return token


def end_session(token: str | None, now: dt.datetime) -> None:
    """End one session (in the current transaction)."""
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == hash_token(token), UserSession.ended_at.is_(None))
            .values(ended_at=now)
        )


def end_all_sessions(user: User, now: dt.datetime) -> None:
    """End every open session of ``user`` (in the current transaction)."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def session_refusal(row: UserSession, now: dt.datetime) -> str | None:
    """Why the session ``row`` may no longer be used, or None when it may."""
    config = current_app.config
    if row.ended_at is not None:
        return "ended"
    if now - row.last_seen_at > config["CLINICIAN_IDLE_TIMEOUT"]:
        return "idle"
    if now - row.created_at > config["CLINICIAN_ABSOLUTE_TIMEOUT"]:
        return "expired"
    if not row.user.active:
        return "inactive"
    return None


@login_manager.user_loader
def load_user(token: str) -> User | None:
    """The user of a live session with this token; reads only (the touch is in touch_session)."""
    # The user with the session, in the same query: every staff request needs both.
    row = db.session.scalar(
        select(UserSession)
        .options(joinedload(UserSession.user))
        .where(UserSession.token_hash == hash_token(token))
    )
    if row is None or session_refusal(row, utcnow()) is not None:
        return None
    g.user_session = row
    row.user.session_token = token
    return row.user


# -- the gate ---------------------------------------------------------------------------------


def check_access() -> Any:
    """Before every request: let the public through, require a live session for the rest."""
    endpoint = request.endpoint
    if endpoint is None:
        # No route matched: the 404 or 405 that follows serves nothing.
        return None
    if is_public(endpoint):
        return None
    if not current_user.is_authenticated:
        return refuse_anonymous()
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    g.staff = Staff(user.email, user.is_admin, user.must_change_password)
    if g.staff.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("staff.password"))
        abort(403)
    view = current_app.view_functions.get(endpoint)
    if view is not None and is_admin_only(view) and not g.staff.is_admin:
        abort(403)
    return None


def refuse_anonymous() -> Any:
    """Send a browser to sign in (coming back afterwards); refuse other methods with a 401."""
    if request.method in ("GET", "HEAD"):
        target = request.full_path if request.query_string else request.path
        return redirect(url_for("staff.login", next=target))
    # A form posted after the session ended: nothing is done; say why and offer to sign in.
    return render_template(
        "clinician/login.html", form=LoginForm(formdata=None), session_ended=True
    ), 401


def touch_session(response: Response) -> Response:
    """After a staff request, record its activity for the idle timeout (at most once per
    TOUCH_INTERVAL).

    The one write that belongs to no view: its own short transaction, after the view's, so
    that the gate itself never writes and a view's transaction holds only its own work.
    """
    row: UserSession | None = g.get("user_session")
    now = utcnow()
    if (
        row is None or row.ended_at is not None or response.status_code >= 500
        or now - row.last_seen_at < TOUCH_INTERVAL
    ):
        return response
    db.session.rollback()  # anything a view left uncommitted is not ours to keep
    try:
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == row.id, UserSession.ended_at.is_(None))
            .values(last_seen_at=now)
        )
        db.session.commit()
    except SQLAlchemyError:
        # Only the idle clock is behind: the next request tries again; the page stands.
        rollback()
        return response
    row.last_seen_at = now
    return response


def staff_context() -> dict[str, Any]:
    return {"staff": g.get("staff"), "staff_endpoints": current_app.view_functions}


def init_app(app: Flask) -> None:
    login_manager.login_view = "staff.login"
    # Our own check_access answers anonymous requests; Flask-Login's flash would be noise.
    login_manager.login_message = None  # type: ignore[assignment]
    app.before_request(check_access)
    app.after_request(touch_session)
    app.context_processor(staff_context)
