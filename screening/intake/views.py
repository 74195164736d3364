"""Intake views: validate, call one function that does the work, redirect."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug import Response

from .. import alerts, errors, throttle
from ..clientaddr import client_address
from ..core import instruments as inst
from ..extensions import db
from ..models import Draft, Submission
from . import drafts, steps
from .forms import ResumeForm, SubmitForm, error_links
from .submission import existing_submission, submit
from .summary import review_sections

bp = Blueprint("intake", __name__)

INTAKE_SCOPE = "intake"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def local_today() -> dt.date:
    """The server's date, for age checks (a function so tests can fix it)."""
    return dt.date.today()


def current_draft(lock: bool = False) -> Draft | None:
    """This browser's draft; ``lock`` before changing its answers (see ``find_draft``)."""
    return drafts.find_draft(session.get("draft_token"), utcnow(), lock=lock)


def render_step(
    step: steps.Step, form: FlaskForm, draft: Draft | None, status: int = 200,
    template: str | None = None,
):
    data = draft.data if draft else {}
    return render_template(
        template or f"intake/{step.key}.html",
        step=step,
        form=form,
        number=steps.number(step.key),
        total=steps.TOTAL_STEPS,
        previous=steps.previous(step.key),
        return_to_review=request.values.get("return_to") == "review",
        # Shown when the patient answered PHQ-9 item 9 above 0 and has not yet submitted.
        show_crisis=data.get("phq9", {}).get("phq9_9", 0) >= 1,
        inst=inst,
        error_links=error_links,
        can_save_later=bool(data.get("about")),
    ), status


@bp.get("/")
def start() -> Any:
    return render_template("intake/start.html", has_draft=current_draft() is not None)


@bp.get("/crisis")
def crisis() -> Any:
    return render_template("intake/crisis.html")


@bp.route("/intake/<step_key>", methods=["GET", "POST"])
def step(step_key: str) -> Any:
    try:
        return _step(step_key)
    except errors.DATABASE_UNAVAILABLE as error:
        if request.method != "POST" or step_key not in steps.BY_KEY:
            raise
        return _step_not_saved(steps.BY_KEY[step_key], error)


def _step_not_saved(step: steps.Step, error: Exception) -> Response:
    """The database failed: show the step again with what was typed, saying nothing was saved."""
    errors.database_failed(error)
    kwargs = {"today": local_today()} if step.key == "about" else {}
    body, _status = render_step(
        step, step.form_class(**kwargs), None, template="errors/step_not_saved.html"
    )
    return errors.unavailable(make_response(body))


def _step(step_key: str) -> Any:
    step = steps.BY_KEY.get(step_key) or abort(404)
    draft = current_draft(lock=request.method == "POST")
    if draft is None and step_key != "consent":
        return redirect(url_for("intake.start"))
    data = draft.data if draft else {}
    first = steps.first_incomplete(data)
    if first and steps.number(step_key) > steps.number(first):
        return redirect(url_for("intake.step", step_key=first))

    kwargs: dict[str, Any] = {"today": local_today()} if step_key == "about" else {}
    typed = drafts.partial_input(draft, step_key) if request.method == "GET" else None
    if typed is not None:
        kwargs["formdata"] = typed  # left unfinished by "Save and finish later"
    form = step.form_class(data=data.get(step_key), **kwargs)
    if not form.validate_on_submit():
        if request.method == "POST" and _wants_save_later(draft):
            # Keep what was typed so far; the step stays unanswered until it is valid.
            drafts.save_partial(draft, step_key, form._fields, request.form, utcnow())
            db.session.commit()
            return redirect(url_for("intake.saved"))
        status = 422 if request.method == "POST" else 200
        return render_step(step, form, draft, status)
    if step_key == "consent" and request.form.get("website"):
        # The honeypot: a field people never see, that bots fill in. Store nothing.
        return redirect(url_for("intake.start"))

    now = utcnow()
    if draft is None:
        address = client_address()
        limit = current_app.config["INTAKE_MAX_PER_ADDRESS"]
        window = current_app.config["INTAKE_WINDOW"]
        if throttle.recent_count(INTAKE_SCOPE, address, window, now) >= limit:
            db.session.rollback()
            abort(429)
        throttle.record(INTAKE_SCOPE, address, now)
        draft, token = drafts.create_draft(now)
        session["draft_token"] = token
    values = steps.values_to_keep(form)
    if step_key == "consent":
        values["consented_at"] = now.isoformat()
    drafts.save_step(draft, step_key, values, now)
    db.session.commit()

    if _wants_save_later(draft):
        return redirect(url_for("intake.saved"))
    index = steps.number(step_key)
    if request.form.get("return_to") == "review" or index == len(steps.STEPS):
        following = steps.first_incomplete(draft.data) or "review"
    else:
        following = steps.STEP_KEYS[index]
    if following == "review":
        return redirect(url_for("intake.review"))
    return redirect(url_for("intake.step", step_key=following))


def _wants_save_later(draft: Draft | None) -> bool:
    """"Save and finish later" was pressed, and there is a date of birth to resume with."""
    return (
        request.form.get("action") == "save_later"
        and draft is not None
        and "about" in draft.data
    )


@bp.route("/intake/review", methods=["GET", "POST"])
def review() -> Any:
    draft = current_draft()
    if draft is None:
        done = _already_submitted()
        return done or redirect(url_for("intake.start"))
    first = steps.first_incomplete(draft.data)
    if first:
        return redirect(url_for("intake.step", step_key=first))
    form = SubmitForm()
    if form.validate_on_submit():
        submission, created = submit(draft, utcnow())
        if created:
            alerts.alert_if_urgent(submission)  # after the commit, in the background
        return _show_confirmation(submission)
    return render_template(
        "intake/review.html",
        form=form,
        sections=review_sections(draft.data),
        number=steps.REVIEW_NUMBER,
        total=steps.TOTAL_STEPS,
    ), (422 if request.method == "POST" else 200)


def _already_submitted() -> Response | None:
    """After a double click or a refresh, the second submit finds the first one's result."""
    token = session.get("draft_token")
    found = existing_submission(drafts.hash_token(token)) if token else None
    return _show_confirmation(found) if found else None


def _show_confirmation(submission: Submission) -> Response:
    session["submitted_reference"] = submission.reference
    return redirect(url_for("intake.done"))


@bp.get("/intake/done")
def done() -> Any:
    reference = session.get("submitted_reference")
    found = db.session.execute(
        db.select(Submission.reference, Submission.urgent).where(
            Submission.reference == (reference or "")
        )
    ).first()
    if found is None:
        return redirect(url_for("intake.start"))
    return render_template("intake/done.html", reference=found.reference, show_crisis=found.urgent)


@bp.get("/intake/saved")
def saved() -> Any:
    draft = current_draft()
    if draft is None:
        return redirect(url_for("intake.start"))
    # This browser forgets the draft: on a shared device the next person must not walk into
    # these answers. The link and the date of birth bring them back, here or anywhere.
    token = session.pop("draft_token")
    return render_template(
        "intake/saved.html",
        resume_url=url_for("intake.resume", token=token, _external=True),
        expires_at=draft.expires_at,
    )


@bp.route("/intake/resume/<token>", methods=["GET", "POST"])
def resume(token: str) -> Any:
    form = ResumeForm()
    failed = False
    if form.validate_on_submit():
        try:
            draft = drafts.unlock(token, form.date_of_birth.data, client_address(), utcnow())
        except drafts.TooManyTries:
            abort(429)
        if draft is not None:
            session.clear()
            session["draft_token"] = token
            following = steps.first_incomplete(draft.data)
            if following is None:
                return redirect(url_for("intake.review"))
            return redirect(url_for("intake.step", step_key=following))
        failed = True
    status = 422 if request.method == "POST" else 200
    return render_template(
        "intake/resume.html", form=form, failed=failed, error_links=error_links
    ), status
