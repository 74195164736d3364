"""Clinician views: the dashboard, a submission's review page, its actions, the exports, and
erasure (admins).

Access is checked before every request by ``screening.staff.sessions`` (deny by default);
these views only validate, call one function that does the work, commit once, and redirect or
render.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import format_timedelta
from flask_login import current_user

from .. import audit
from ..clock import utcnow
from ..core import health_screen, options, treatment_history
from ..core.flags import FIT_LABELS
from ..core.instruments import Instrument, by_key
from ..core.trials import Trial, why_not_adequate_failed
from ..extensions import db
from ..models import Patient, PatientLink, QuestionnaireResponse, Submission, User
from ..questionnaires import intake_instruments
from ..staff.sessions import admin_required
from . import erasure, export, patients, queries, review
from .forms import (
    AcknowledgeForm,
    EraseForm,
    FilterForm,
    LinkForm,
    NoteForm,
    StatusForm,
    UndoForm,
    status_choices,
)
from .listing import current_listing

bp = Blueprint("clinician", __name__, url_prefix="/clinician")


def staff_user() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def waited(since: dt.datetime, now: dt.datetime) -> str:
    """How long an urgent submission has waited, in words ("3 hours"): the difference of two
    aware UTC instants, so a daylight-saving change in the clinic's zone does not move it."""
    return format_timedelta(now - since, threshold=1.0)


#: The languages patients answer in, named for staff.
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


@bp.app_template_global()
def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


@bp.app_template_global()
def fit_label(code: str) -> str:
    return FIT_LABELS.get(code, code)


@bp.app_template_global()
def status_label(code: str) -> str:
    return review.STATUS_LABELS.get(code, code)


# -- dashboard ------------------------------------------------------------------------------


@bp.get("/")
def dashboard() -> Any:
    form = FilterForm(request.args)
    form.validate()
    return render_dashboard(form)


def render_dashboard(form: FilterForm, code: int = 200, export_refused: bool = False) -> Any:
    """The dashboard for the valid part of ``form``, naming any filter that was ignored."""
    filters = form.filters()
    sort, descending = form.sort_key(), form.descending()
    page = queries.dashboard_page(filters, sort, descending, form.page_number())
    args = filters.query_args()

    listing = current_listing()
    starts_high = {"submitted", "trials"} | {
        key for key, found in listing.sorts.items() if found.instruments
    }

    def sort_url(key: str) -> str:
        # A second click on the sorted column reverses it; dates and scores start high.
        first_desc = key in starts_high
        desc = (not descending) if key == sort else first_desc
        return url_for(".dashboard", **args, sort=key, order="desc" if desc else "asc")

    keep = {**args, "sort": sort, "order": "desc" if descending else "asc"}
    return render_template(
        "clinician/dashboard.html",
        listing=listing,
        form=form,
        errors=form.error_messages(),
        export_refused=export_refused,
        page=page,
        counts=queries.queue_counts(),
        sort=sort,
        descending=descending,
        sort_url=sort_url,
        page_url=lambda n: url_for(".dashboard", **keep, page=n),
        export_url=lambda deidentified: url_for(
            ".export_csv", **args, **({"deidentified": "1"} if deidentified else {})
        ),
        filtered=bool(args),
        now=utcnow(),
        waited=waited,
    ), code


# -- one submission -------------------------------------------------------------------------


def intake_responses(
    submission: Submission,
) -> list[tuple[Instrument, QuestionnaireResponse]]:
    """The intake's responses with their instruments, in the order the intake asks them."""
    order = {instrument.key: n for n, instrument in enumerate(intake_instruments())}
    found = sorted(submission.responses, key=lambda r: (order.get(r.instrument, len(order)), r.id))
    return [(by_key(response.instrument), response) for response in found]


def find_submission(reference: str) -> Submission:
    found = queries.submission_by_reference(reference)
    return found if found is not None else abort(404)


def show(
    submission: Submission,
    status_form: StatusForm | None = None,
    note_form: NoteForm | None = None,
    ack_form: AcknowledgeForm | None = None,
    code: int = 200,
) -> Any:
    """The review page; every showing is audited (it displays patient data)."""
    audit.record("view_submission", submission.reference)
    db.session.commit()
    status_form = status_form or StatusForm(formdata=None, expected=submission.review_status)
    moves = review.allowed_moves(submission)
    status_form.status.choices = status_choices(moves)
    trials = [
        (row, why_not_adequate_failed(Trial(**row))) for row in submission.trials
    ]
    return render_template(
        "clinician/submission.html",
        s=submission,
        matches=patients.possible_matches(submission.patient),
        main=patients.main_record(submission.patient),
        responses=intake_responses(submission),
        history=treatment_history,
        health=health_screen,
        options=options,
        trials=trials,
        moves=moves,
        status_form=status_form,
        note_form=note_form or NoteForm(formdata=None),
        ack_form=ack_form or AcknowledgeForm(formdata=None),
        now=utcnow(),
        waited=waited,
    ), code


@bp.get("/submissions/<reference>")
def submission(reference: str) -> Any:
    return show(find_submission(reference))


@bp.post("/submissions/<reference>/status")
def change_status(reference: str) -> Any:
    found = find_submission(reference)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            review.change_status(found, form.expected.data, form.status.data, staff_user(),
                                 utcnow())
        except review.ReviewError as error:
            db.session.rollback()
            form.status.errors = [str(error)]
        else:
            db.session.commit()
            flash(f"Status changed to “{review.STATUS_LABELS[form.status.data]}”.", "success")
            return redirect(url_for(".submission", reference=found.reference))
    return show(found, status_form=form, code=422)


@bp.post("/submissions/<reference>/notes")
def add_note(reference: str) -> Any:
    found = find_submission(reference)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            review.add_note(found, form.body.data, staff_user(), utcnow())
        except review.ReviewError as error:
            db.session.rollback()
            form.body.errors = [str(error)]
        else:
            db.session.commit()
            flash("Note added.", "success")
            return redirect(url_for(".submission", reference=found.reference, _anchor="notes"))
    return show(found, note_form=form, code=422)


@bp.post("/submissions/<reference>/acknowledge")
def acknowledge(reference: str) -> Any:
    found = find_submission(reference)
    form = AcknowledgeForm()
    if form.validate_on_submit():
        try:
            review.acknowledge(found, form.note.data, staff_user(), utcnow())
        except review.ReviewError as error:
            db.session.rollback()
            form.note.errors = [str(error)]
        else:
            db.session.commit()
            flash("Urgent submission acknowledged.", "success")
            return redirect(url_for(".submission", reference=found.reference))
    return show(found, ack_form=form, code=422)


# -- exports --------------------------------------------------------------------------------


@bp.get("/submissions/<reference>/fhir.json")
def submission_fhir(reference: str) -> Response:
    found = find_submission(reference)
    document = export.fhir_document(found)
    audit.record("export_fhir", found.reference)
    db.session.commit()
    return current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2),
        mimetype="application/fhir+json",
        headers={
            "Content-Disposition": f'attachment; filename="{found.reference}-fhir.json"'
        },
    )


@bp.get("/export.csv")
def export_csv() -> Any:
    form = FilterForm(request.args)
    if not form.validate():
        # A download has no page to explain an ignored filter: refuse, rather than export
        # more rows than were asked for, and show the dashboard with what was wrong.
        return render_dashboard(form, code=400, export_refused=True)
    deidentified = request.args.get("deidentified") == "1"
    return Response(
        stream_with_context(_audited_csv(form.filters(), deidentified, staff_user())),
        mimetype="text/csv",
        headers={
            "Content-Disposition":
                f'attachment; filename="{export.filename(utcnow(), deidentified)}"'
        },
    )


def _audited_csv(filters: queries.Filters, deidentified: bool, user: User) -> Iterator[str]:
    """The CSV's pieces; audited once the last row is out (or the client left), with the
    number of rows handed to the server."""
    # Plain values: the body outlives the request's database session, so the signed-in User
    # object can no longer be read by the time the audit is written.
    actor = audit.Actor(user.id, user.email)
    progress = export.Progress()
    try:
        yield from export.csv_chunks(filters, deidentified, progress)
    finally:
        db.session.rollback()
        audit.record(
            "export_csv",
            user=actor,
            filters=filters.audit_details(),
            deidentified=deidentified,
            rows=progress.rows,
            complete=progress.complete,
        )
        db.session.commit()


# -- erasure (admins) -----------------------------------------------------------------------


@bp.route("/submissions/<reference>/erase", methods=["GET", "POST"])
@admin_required
def erase(reference: str) -> Any:
    submission = find_submission(reference)
    form = EraseForm(submission.reference)
    if form.validate_on_submit():
        try:
            erasure.erase_submission(submission, form.reason.data or "", staff_user())
        except erasure.ErasureError as problem:
            db.session.rollback()
            form.reason.errors = [str(problem)]
        else:
            db.session.commit()
            erasure.scrub_leftovers()
            flash(f"Submission {submission.reference} was erased.", "success")
            return redirect(url_for(".dashboard"))
    return render_template("clinician/erase.html", s=submission, form=form), (
        422 if form.errors else 200
    )


# -- patients -------------------------------------------------------------------------------


def find_patient(patient_id: int) -> Patient:
    found = db.session.get(Patient, patient_id)
    return found if found is not None else abort(404)


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> Any:
    """A patient's record: identity, every intake with its flags, and every response. A
    record linked to an earlier one is shown as part of it."""
    found = find_patient(patient_id)
    main = patients.main_record(found)
    if main.id != found.id:
        return redirect(url_for(".patient", patient_id=main.id))
    members = patients.group(main)
    audit.record("view_patient", f"patient:{main.id}", records=len(members))
    db.session.commit()
    intakes = sorted((s for p in members for s in p.submissions), key=lambda s: s.submitted_at)
    links = [link for link in patients.active_links([p.id for p in members])
             if link.decision == patients.SAME]
    return render_template(
        "clinician/patient.html",
        patient=main,
        members=members,
        intakes=intakes,
        responses=sorted((r for p in members for r in p.responses),
                         key=lambda r: (r.completed_at, r.id)),
        instruments={i.key: i for i in intake_instruments()},
        links=links,
        matches=patients.possible_matches(main),
        undo_form=UndoForm(formdata=None),
    )


@bp.get("/patients/<int:patient_id>/compare/<int:other_id>")
def compare(patient_id: int, other_id: int, form: LinkForm | None = None,
            code: int = 200) -> Any:
    """Two records side by side, to decide whether they are the same person."""
    found, other = find_patient(patient_id), find_patient(other_id)
    if found.id == other.id:
        abort(404)
    audit.record("view_patient", f"patient:{found.id}", compared_with=f"patient:{other.id}")
    db.session.commit()
    return render_template(
        "clinician/compare.html", patient=found, other=other,
        form=form or LinkForm(formdata=None),
    ), code


@bp.post("/patients/<int:patient_id>/compare/<int:other_id>")
def decide_link(patient_id: int, other_id: int) -> Any:
    found, other = find_patient(patient_id), find_patient(other_id)
    form = LinkForm()
    if form.validate_on_submit():
        try:
            link = patients.decide(found, other, form.decision.data, staff_user(), utcnow())
        except patients.LinkError as error:
            db.session.rollback()
            form.decision.errors = [str(error)]
        else:
            db.session.commit()
            if link.decision == patients.SAME:
                flash("The records are now shown together.", "success")
                return redirect(url_for(".patient", patient_id=link.other_patient_id))
            flash("Recorded as different people: the notice will not be shown again.",
                  "success")
            return redirect(url_for(".patient", patient_id=found.id))
    return compare(patient_id, other_id, form=form, code=422)


@bp.post("/patients/<int:patient_id>/links/<int:link_id>/undo")
def undo_link(patient_id: int, link_id: int) -> Any:
    link = db.session.get(PatientLink, link_id)
    if link is None or patient_id not in (link.patient_id, link.other_patient_id):
        abort(404)
    form = UndoForm()
    if form.validate_on_submit():
        try:
            patients.undo(link, staff_user(), utcnow())
        except patients.LinkError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            db.session.commit()
            flash("The decision was undone.", "success")
    return redirect(url_for(".patient", patient_id=patient_id))
