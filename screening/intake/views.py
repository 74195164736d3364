"""Intake views: check the request, call one function that does the work, respond.

Each view that writes commits once; the step flow itself is in ``flow``.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf import FlaskForm
from werkzeug import Response

from .. import alerts, clock
from ..core import health_screen, treatment_history
from ..extensions import db
from ..models import Draft, Submission
from ..web import errors, language
from ..web.clientaddr import client_address
from ..web.tokens import hash_token
from . import drafts, flow
from .forms import ResumeForm, SubmitForm, error_links
from .steps import Step, current_steps
from .submission import existing_submission, submit

bp = Blueprint("intake", __name__)


def current_draft(lock: bool = False) -> Draft | None:
    """This browser's draft; ``lock`` before changing its answers (see ``find_draft``)."""
    return drafts.find_draft(session.get("draft_token"), clock.utcnow(), lock=lock)


def render_step(
    step: Step, form: FlaskForm, draft: Draft | None, status: int = 200,
    template: str | None = None,
) -> tuple[str, int]:
    data = draft.data if draft else {}
    steps = current_steps()
    return render_template(
        template or step.template,
        step=step,
        form=form,
        number=steps.number(step.key),
        total=steps.total,
        previous=steps.previous(step.key),
        return_to_review=request.values.get("return_to") == "review",
        # Shown once the patient has given an answer that raises an alert (PHQ-9 item 9
        # above 0), until they submit.
        show_crisis=steps.alert_raised(data),
        history=treatment_history,
        health=health_screen,
        error_links=error_links,
        can_save_later=draft is not None and steps.date_of_birth(data) is not None,
    ), status


@bp.get("/")
def start() -> Any:
    return render_template("intake/start.html", has_draft=current_draft() is not None)


@bp.get("/crisis")
def crisis() -> Any:
    return render_template("intake/crisis.html")


@bp.route("/intake/<step_key>", methods=["GET", "POST"])
def step(step_key: str) -> Any:
    found = current_steps().get(step_key) or abort(404)
    try:
        return _step(found)
    except errors.DATABASE_UNAVAILABLE as error:
        if request.method != "POST":
            raise
        return _step_not_saved(found, error)


def _step_not_saved(step: Step, error: Exception) -> Response:
    """The database failed: show the step again with what was typed, saying nothing was saved."""
    errors.database_failed(error)
    body, _status = render_step(
        step, step.form(None, clock.local_today()), None, template="errors/step_not_saved.html"
    )
    return errors.unavailable(make_response(body))


def _step(step: Step) -> Any:
    draft = current_draft(lock=request.method == "POST")
    steps = current_steps()
    elsewhere = flow.redirect_before(steps, step, draft)
    if elsewhere:
        return _go(elsewhere)
    if request.method != "POST":
        return render_step(step, flow.form_to_show(step, draft, clock.local_today()), draft)
    chosen = language.chosen(request.form.get(language.CHOICE))
    if chosen:
        return _change_language(step, draft, chosen)
    try:
        outcome = flow.answer(
            steps, step, draft, request.form,
            save_later=request.form.get("action") == "save_later",
            back_to_review=request.form.get("return_to") == "review",
            address=client_address(), now=clock.utcnow(), today=clock.local_today(),
            language=language.current_language(),
        )
    except flow.TooManyIntakes:
        db.session.rollback()
        abort(429)
    if outcome.form is not None:
        db.session.rollback()  # nothing to keep: the answers are shown back to be fixed
        return render_step(step, outcome.form, draft, outcome.status)
    db.session.commit()
    if outcome.draft_token:
        session["draft_token"] = outcome.draft_token
    return _go(outcome.target or "start")


def _change_language(step: Step, draft: Draft | None, chosen: str) -> Response:
    """The language link, sent with the step's form (by app.js): keep what was typed on this
    step and show it again in the chosen language."""
    flow.keep_typed(step, draft, request.form, clock.utcnow(), clock.local_today(), chosen)
    db.session.commit()
    language.remember_choice(chosen)
    back = {"return_to": "review"} if request.form.get("return_to") == "review" else {}
    return redirect(url_for("intake.step", step_key=step.key, **back))


def _go(target: str) -> Response:
    """Redirect to a step, the review, the "finish later" page or the start."""
    if target in ("review", "saved", "start"):
        return redirect(url_for(f"intake.{target}"))
    return redirect(url_for("intake.step", step_key=target))


@bp.route("/intake/review", methods=["GET", "POST"])
def review() -> Any:
    # Locked for a submit: a second submit of this draft waits for the first to finish, then
    # finds it gone and shows the first one's confirmation.
    draft = current_draft(lock=request.method == "POST")
    if draft is None:
        done = _already_submitted()
        return done or redirect(url_for("intake.start"))
    steps = current_steps()
    first = steps.first_incomplete(draft.data)
    if first:
        return _go(first)
    form = SubmitForm()
    if form.validate_on_submit():
        submission, created = submit(steps, draft, clock.utcnow(), language.current_language())
        db.session.commit()
        if created:
            alerts.alert_if_urgent(submission)  # after the commit, in the background
        return _show_confirmation(submission)
    return render_template(
        "intake/review.html",
        form=form,
        sections=steps.review_sections(draft.data),
        number=steps.review_number,
        total=steps.total,
    ), (422 if request.method == "POST" else 200)


def _already_submitted() -> Response | None:
    """After a double click or a refresh, the second submit finds the first one's result."""
    token = session.get("draft_token")
    found = existing_submission(hash_token(token)) if token else None
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
            draft = drafts.unlock(
                token, form.date_of_birth.data, current_steps(), client_address(),
                clock.utcnow(),
            )
        except drafts.TooManyTries:
            db.session.rollback()
            abort(429)
        if draft is not None:
            # A language chosen on this page stays; otherwise the draft's comes back.
            kept = language.chosen(session.get(language.SESSION_KEY)) or drafts.language_of(draft)
            session.clear()
            session["draft_token"] = token
            if kept:
                language.remember_choice(kept)
            return _go(current_steps().first_incomplete(draft.data) or "review")
        db.session.commit()  # the wrong try is counted
        failed = True
    status = 422 if request.method == "POST" else 200
    return render_template(
        "intake/resume.html", form=form, failed=failed, error_links=error_links
    ), status
