"""Staff pages: sign-in, sign-out, one's own password change, and the audit trail (admins)."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Select, func, select
from werkzeug import Response

from .. import audit
from ..clock import utcnow
from ..extensions import db
from ..models import AuditEvent, User
from ..web import clinic_time
from ..web.clientaddr import client_address
from . import accounts
from .forms import AuditFilterForm, LoginForm, PasswordForm
from .sessions import admin_required, end_session, is_safe_next

bp = Blueprint("staff", __name__, url_prefix="/clinician")

#: Where staff land after signing in, the first of these that the app has.
HOME_ENDPOINTS = ("clinician.dashboard", "staff.audit")
AUDIT_PER_PAGE = 50


def login_limits() -> accounts.LoginLimits:
    config = current_app.config
    return accounts.LoginLimits(config["LOGIN_MAX_FAILURES"], config["LOGIN_WINDOW"])


def home_url() -> str:
    endpoint = next(e for e in HOME_ENDPOINTS if e in current_app.view_functions)
    return url_for(endpoint)


def lock_minutes() -> int:
    return int(current_app.config["LOGIN_WINDOW"].total_seconds() // 60)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    form = LoginForm()
    next_url = request.args.get("next")
    if request.method == "GET" and current_user.is_authenticated:
        return redirect(next_url if is_safe_next(next_url) else home_url())
    if not form.validate_on_submit():
        return render_template("clinician/login.html", form=form), (
            422 if request.method == "POST" else 200
        )
    now = utcnow()
    if current_user.is_authenticated:
        # Signing in again starts over: the old session ends rather than lingering.
        end_session(current_user.get_id(), now)
        logout_user()
    try:
        user = accounts.sign_in(
            form.email.data or "", form.password.data or "", client_address(), login_limits(), now
        )
    except accounts.SignInRefused as refusal:
        db.session.commit()
        status = 429 if refusal.locked else 401
        return render_template(
            "clinician/login.html", form=form, refused=refusal, minutes=lock_minutes()
        ), status
    db.session.commit()
    # A fresh cookie session: nothing from before sign-in (a patient draft, say) carries over.
    session.clear()
    login_user(user)
    if user.must_change_password:
        return redirect(url_for("staff.password"))
    return redirect(next_url if is_safe_next(next_url) else home_url())


@bp.post("/logout")
def logout() -> Response:
    # CSRFProtect has checked the token already, as for every POST.
    end_session(current_user.get_id(), utcnow())
    audit.record("sign_out", f"user:{current_user.id}")
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"))


@bp.route("/password", methods=["GET", "POST"])
def password() -> Any:
    form = PasswordForm()
    if form.validate_on_submit():
        user: User = current_user._get_current_object()  # type: ignore[attr-defined]
        try:
            accounts.change_password(
                user,
                form.current_password.data or "",
                form.new_password.data or "",
                client_address(),
                login_limits(),
                utcnow(),
            )
        except accounts.SignInRefused as refusal:
            db.session.commit()
            if refusal.locked:
                logout_user()
                session.clear()
                return render_template(
                    "clinician/login.html", form=LoginForm(formdata=None), refused=refusal,
                    minutes=lock_minutes(),
                ), 429
            form.current_password.errors.append("That is not your current password.")
        except accounts.AccountError as problem:
            db.session.rollback()
            form.new_password.errors.append(str(problem))
        else:
            db.session.commit()
            session.clear()
            login_user(user)
            return redirect(home_url())
    status = 422 if request.method == "POST" else 200
    return render_template("clinician/password.html", form=form), status


@bp.get("/audit", endpoint="audit")
@admin_required
def audit_trail() -> Any:
    form = AuditFilterForm(request.args)
    actions = db.session.scalars(select(AuditEvent.action).distinct().order_by("action")).all()
    form.action.choices = [("", "Any action")] + [(a, a) for a in actions]
    if not form.validate():
        return render_template("clinician/audit.html", form=form, page=None, filters={}), 422
    page = db.paginate(
        audit_query(form),
        page=max(request.args.get("page", 1, type=int), 1),
        per_page=AUDIT_PER_PAGE,
        error_out=False,
    )
    # Kept on the page links, so paging does not drop the filters.
    filters = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template("clinician/audit.html", form=form, page=page, filters=filters)


def audit_query(form: AuditFilterForm) -> Select[tuple[AuditEvent]]:
    """The audit events matching the filters, newest first."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if form.action.data:
        query = query.where(AuditEvent.action == form.action.data)
    if form.user.data:
        needle = form.user.data.strip().lower()
        query = query.where(func.lower(AuditEvent.user_email).contains(needle, autoescape=True))
    if form.date_from.data:
        query = query.where(AuditEvent.at >= clinic_time.day_start(form.date_from.data))
    if form.date_to.data:
        query = query.where(AuditEvent.at < clinic_time.day_end(form.date_to.data))
    return query
