"""A submission's review page: every answer, flags with reasons, status, notes, acknowledgement."""

from __future__ import annotations

import datetime as dt

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening.clinician import review
from screening.core import health_screen, treatment_history
from screening.core import instruments as inst
from screening.core.trials import Trial
from screening.extensions import db
from screening.models import AuditEvent, Note, StatusChange, Submission, User

from .auth_helpers import make_user
from .clinician_helpers import (
    add_submission,
    get_submission,
    signed_in,
    use_cheap_password_hashing,
)
from .conftest import csrf_token
from .test_dashboard import page_text, table_references

MIXED_TRIALS = (
    Trial("Sertraline", 8, True, "did_not_help"),
    Trial("Fluoxetine", 4, True, "did_not_help"),
    Trial("Bupropion", 12, False, "helped_a_little"),
    Trial("Venlafaxine", 10, True, "side_effects"),
    Trial("Escitalopram", 9, True, "helped_a_lot"),
    Trial("sertraline ", 7, True, "helped_a_little"),
)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    use_cheap_password_hashing(monkeypatch)


@pytest.fixture
def clinician(app):
    return signed_in(app)


def url(reference: str, action: str = "") -> str:
    return f"/clinician/submissions/{reference}" + (f"/{action}" if action else "")


def audit_events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        for event in events:
            db.session.expunge(event)
        return list(events)


def test_the_page_shows_every_question_and_answer_from_the_instruments(app, clinician):
    ref = add_submission(app, phq9=(0, 1, 2, 3, 0, 1, 2, 3, 0), gad7=(3, 2, 1, 0, 1, 2, 3),
                         difficulty=3, safety_yes=("heart_disease",), trials=MIXED_TRIALS,
                         notes="Tried yoga as well.")
    text = page_text(clinician.get(url(ref)))
    for instrument in (inst.PHQ9, inst.GAD7):
        assert instrument.stem in text
        for item in instrument.items:
            assert item.text in text
    assert "Extremely difficult not scored" in text
    # Items with answers and scores, totals and bands.
    assert f"{inst.PHQ9.items[3].text} Nearly every day 3" in text
    assert f"{inst.GAD7.items[0].text} Nearly every day 3" in text
    assert "Total (0–27) 12" in text and "Severity band moderate" in text
    assert "Total (0–21) 12" in text
    for question in health_screen.SAFETY_QUESTIONS:
        assert question.question in text
    for other in treatment_history.OTHER_TREATMENTS:
        assert other.question in text
    assert "Tried yoga as well." in text
    assert "Rule set v1" not in text and "(rule set v1)" in text


def test_trials_table_says_which_counted_and_why_not(app, clinician):
    ref = add_submission(app, trials=MIXED_TRIALS)
    text = page_text(clinician.get(url(ref)))
    assert "1 adequate failed trial " in text  # Sertraline twice counts once
    assert "Sertraline 8 yes Did not help Yes" in text
    assert "Fluoxetine 4 yes Did not help No: taken 4 weeks (fewer than 6)" in text
    assert "Bupropion 12 no Helped a little No: not taken as prescribed" in text
    assert "Venlafaxine 10 yes Stopped because of side effects No: stopped because of side" in text
    assert "Escitalopram 9 yes Helped a lot No: helped a lot" in text


def test_flags_are_shown_with_their_reasons_in_staff_words(app, clinician):
    ref = add_submission(app, phq9=(2, 2, 2, 2, 2, 2, 2, 2, 1), safety_yes=("brain_bleed",))
    stored = get_submission(app, ref)
    text = page_text(clinician.get(url(ref)))
    assert "Fit: possible fit" in text
    for reasons in stored.reasons.values():
        for reason in reasons:
            assert reason in text
    assert "Reported: a history of bleeding in the brain" in text
    assert "Needs medical review: yes" in text
    assert "eligible" not in text.lower()


def test_viewing_is_audited_without_patient_data(app, clinician):
    ref = add_submission(app, first_name="Quinn")
    clinician.get(url(ref))
    events = audit_events(app, "view_submission")
    assert [e.target for e in events] == [ref]
    assert events[0].user_email == "casey.clinician@example.com"
    assert "Quinn" not in str(events[0].details)


def test_an_unknown_reference_is_a_plain_404(app, clinician):
    assert clinician.get(url("ZZZZ-ZZZZ")).status_code == 404
    assert clinician.get(url("x" * 300)).status_code == 404


def change(client, ref: str, to: str, expected: str | None = None):
    page = client.get(url(ref)).get_data(as_text=True)
    data = {"csrf_token": csrf_token(page), "status": to}
    if expected is not None:
        data["expected"] = expected
    else:
        data["expected"] = get_status_from_page(page)
    return client.post(url(ref, "status"), data=data)


def get_status_from_page(page: str) -> str:
    marker = 'name="expected" value="'
    start = page.index(marker) + len(marker)
    return page[start : page.index('"', start)]


def test_status_moves_along_the_path_recording_who_and_when(app, clinician):
    ref = add_submission(app)
    for status in ("in_review", "contacted", "consult_scheduled", "closed", "in_review"):
        response = change(clinician, ref, status)
        assert response.status_code == 302, page_text(response)[:800]
        assert response.location.endswith(url(ref))
        assert get_submission(app, ref).review_status == status
    page = page_text(clinician.get(url(ref)))
    assert "Review status: In review" in page
    assert "Status history" in page
    with app.app_context():
        changes = db.session.scalars(db.select(StatusChange).order_by(StatusChange.id)).all()
        assert [(c.from_status, c.to_status) for c in changes] == [
            ("new", "in_review"), ("in_review", "contacted"), ("contacted", "consult_scheduled"),
            ("consult_scheduled", "closed"), ("closed", "in_review"),
        ]
        assert {c.user.email for c in changes} == {"casey.clinician@example.com"}
        assert all(c.changed_at.tzinfo is not None for c in changes)
    events = audit_events(app, "change_status")
    assert [(e.details["old"], e.details["new"]) for e in events][0] == ("new", "in_review")
    assert len(events) == 5


def test_after_a_change_the_loaded_submission_shows_the_new_state(app):
    """The session keeps values after a commit, so the conditional UPDATEs must also update
    the object already loaded: a page rendered after the change shows it."""
    reference = add_submission(app, phq9=(3, 3, 3, 3, 3, 3, 3, 3, 1))
    user_id = make_user(app)
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    with app.app_context():
        user = db.session.get(User, user_id)
        submission = db.session.scalar(
            db.select(Submission).where(Submission.reference == reference))
        review.acknowledge(submission, "Phoned, safe tonight.", user, now)
        review.change_status(submission, "new", "in_review", user, now)
        db.session.commit()
        assert submission.awaiting_ack is False
        assert submission.acknowledged_at == now
        assert submission.review_status == "in_review"
        assert review.allowed_moves(submission) == review.TRANSITIONS["in_review"]


def test_allowed_moves_are_defined_plainly():
    assert review.TRANSITIONS == {
        "new": ("in_review", "contacted", "consult_scheduled", "not_a_fit", "closed"),
        "in_review": ("contacted", "consult_scheduled", "not_a_fit", "closed"),
        "contacted": ("consult_scheduled", "not_a_fit", "closed"),
        "consult_scheduled": ("not_a_fit", "closed"),
        "not_a_fit": ("in_review", "closed"),
        "closed": ("in_review",),
    }


@pytest.mark.parametrize(
    ("start", "to", "message"),
    [
        ("contacted", "new", "cannot go from “Contacted” to “New”"),
        ("contacted", "in_review", "cannot go from “Contacted” to “In review”"),
        ("closed", "contacted", "cannot go from “Closed” to “Contacted”"),
        ("new", "new", "cannot go from “New” to “New”"),
        ("new", "eligible", "Not a valid choice"),
    ],
)
def test_invalid_moves_are_refused_with_a_clear_message(app, clinician, start, to, message):
    ref = add_submission(app, review_status=start)
    response = change(clinician, ref, to, expected=start)
    assert response.status_code == 422
    assert message in page_text(response)
    assert get_submission(app, ref).review_status == start
    assert audit_events(app, "change_status") == []


def test_a_change_from_a_stale_page_is_refused(app, clinician):
    ref = add_submission(app)
    stale = clinician.get(url(ref)).get_data(as_text=True)
    assert change(clinician, ref, "in_review").status_code == 302
    response = clinician.post(url(ref, "status"), data={
        "csrf_token": csrf_token(stale), "expected": "new", "status": "closed",
    })
    assert response.status_code == 422
    assert "Someone else changed the status" in page_text(response)
    assert get_submission(app, ref).review_status == "in_review"


def test_an_urgent_submission_cannot_be_closed_before_acknowledgement(app, clinician):
    ref = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 2))
    page = clinician.get(url(ref)).get_data(as_text=True)
    assert 'value="closed"' not in page and 'value="not_a_fit"' not in page
    response = change(clinician, ref, "closed", expected="new")
    assert response.status_code == 422
    assert "Acknowledge the urgent answer before closing" in page_text(response)
    assert get_submission(app, ref).review_status == "new"


def test_posts_without_a_csrf_token_change_nothing(app, clinician):
    ref = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    for action, data in (("status", {"expected": "new", "status": "in_review"}),
                         ("notes", {"body": "hello"}),
                         ("acknowledge", {"note": "called"})):
        assert clinician.post(url(ref, action), data=data).status_code == 400
    stored = get_submission(app, ref)
    assert stored.review_status == "new" and stored.awaiting_ack
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Note)) == 0


def test_notes_are_appended_with_author_and_time_and_audited_without_text(app, clinician):
    ref = add_submission(app)
    for body in ("Left a voicemail.", "Spoke with the patient;\nconsultation offered."):
        page = clinician.get(url(ref)).get_data(as_text=True)
        response = clinician.post(url(ref, "notes"),
                                  data={"csrf_token": csrf_token(page), "body": body})
        assert response.status_code == 302
        assert response.location.endswith(url(ref) + "#notes")
    text = page_text(clinician.get(url(ref)))
    assert text.index("Left a voicemail.") < text.index("consultation offered.")
    assert text.count("casey.clinician@example.com, 20") == 2
    with app.app_context():
        notes = db.session.scalars(db.select(Note).order_by(Note.id)).all()
        assert [n.body for n in notes] == ["Left a voicemail.",
                                          "Spoke with the patient;\nconsultation offered."]
        assert all(n.user.email == "casey.clinician@example.com" for n in notes)
    events = audit_events(app, "add_note")
    assert len(events) == 2
    assert "voicemail" not in str([e.details for e in events])


def test_notes_cannot_be_edited_or_deleted(app, clinician):
    ref = add_submission(app)
    page = clinician.get(url(ref)).get_data(as_text=True)
    clinician.post(url(ref, "notes"), data={"csrf_token": csrf_token(page), "body": "First."})
    with app.app_context():
        note_id = db.session.scalar(db.select(Note.id))
    for path in (f"notes/{note_id}", f"notes/{note_id}/delete", f"notes/{note_id}/edit"):
        assert clinician.post(url(ref, path), data={"csrf_token": csrf_token(page)}
                              ).status_code in (404, 405)
    assert "First." in page_text(clinician.get(url(ref)))


@pytest.mark.parametrize(("body", "message"), [
    ("", "Write the note before saving it."),
    ("   \n ", "Write the note before saving it."),
    ("x" * (review.MAX_NOTE_LENGTH + 1), "Field cannot be longer than 5000 characters."),
    ("Called\x00", "Remove the invisible control characters."),
    ("bell\x07", "Remove the invisible control characters."),
])
def test_an_empty_or_overlong_note_is_refused(app, clinician, body, message):
    ref = add_submission(app)
    page = clinician.get(url(ref)).get_data(as_text=True)
    response = clinician.post(url(ref, "notes"), data={"csrf_token": csrf_token(page),
                                                       "body": body})
    assert response.status_code == 422
    assert message in page_text(response)
    assert 'aria-describedby="body-hint body-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Note)) == 0


def acknowledge(client, ref: str, note: str):
    page = client.get(url(ref)).get_data(as_text=True)
    return client.post(url(ref, "acknowledge"), data={"csrf_token": csrf_token(page),
                                                      "note": note})


def test_acknowledging_an_urgent_submission_needs_a_note(app, clinician):
    ref = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    for note in ("", "   "):
        response = acknowledge(clinician, ref, note)
        assert response.status_code == 422
        assert "Describe the action taken before acknowledging." in page_text(response)
    stored = get_submission(app, ref)
    assert stored.awaiting_ack and stored.acknowledged_at is None
    assert audit_events(app, "acknowledge_urgent") == []


def test_acknowledgement_records_who_when_and_the_action_taken(app, clinician):
    urgent = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1),
                            submitted_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    newer = add_submission(app)
    assert table_references(clinician.get("/clinician/")) == [urgent, newer]
    before = dt.datetime.now(dt.UTC)
    response = acknowledge(clinician, urgent, "Called the patient; safety plan discussed.")
    assert response.status_code == 302
    stored = get_submission(app, urgent)
    assert not stored.awaiting_ack
    assert stored.acknowledged_at >= before - dt.timedelta(seconds=1)
    assert stored.acknowledgement_note == "Called the patient; safety plan discussed."
    with app.app_context():
        assert db.session.get(type(stored), stored.id).acknowledged_by.email == (
            "casey.clinician@example.com")
    text = page_text(clinician.get(url(urgent)))
    assert "Acknowledged by casey.clinician@example.com" in text
    assert "Action taken: Called the patient; safety plan discussed." in text
    # No longer first in the queue; the urgent count drops to 0.
    dashboard = clinician.get("/clinician/")
    assert table_references(dashboard) == [newer, urgent]
    assert "0 urgent, not yet acknowledged" in page_text(dashboard)
    events = audit_events(app, "acknowledge_urgent")
    assert [e.target for e in events] == [urgent]
    assert "safety plan" not in str(events[0].details)


def test_a_second_acknowledgement_is_refused(app, clinician):
    ref = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    page = clinician.get(url(ref)).get_data(as_text=True)
    assert acknowledge(clinician, ref, "First.").status_code == 302
    response = clinician.post(url(ref, "acknowledge"), data={"csrf_token": csrf_token(page),
                                                             "note": "Second."})
    assert response.status_code == 422
    assert "already been acknowledged" in page_text(response)
    assert get_submission(app, ref).acknowledgement_note == "First."


def test_a_non_urgent_submission_has_nothing_to_acknowledge(app, clinician):
    ref = add_submission(app)
    assert "Acknowledge" not in page_text(clinician.get(url(ref)))
    response = acknowledge(clinician, ref, "Nothing to do.")
    assert response.status_code == 422
    assert "Only urgent submissions need an acknowledgement." in page_text(response)


def test_patient_and_staff_text_is_escaped_on_the_review_page(app, clinician):
    ref = add_submission(app, first_name="<script>alert(1)</script>",
                         notes="<script>alert(2)</script>",
                         trials=(Trial("<img src=x onerror=alert(3)>", 8, True, "did_not_help"),))
    page = clinician.get(url(ref)).get_data(as_text=True)
    clinician.post(url(ref, "notes"), data={"csrf_token": csrf_token(page),
                                            "body": "<script>alert(4)</script>"})
    body = clinician.get(url(ref)).get_data(as_text=True)
    assert "<script>alert" not in body and "<img src=x" not in body
    for n in (1, 2, 4):
        assert f"&lt;script&gt;alert({n})&lt;/script&gt;" in body


def test_fhir_export_is_valid_r4_attached_and_audited(app, clinician):
    ref = add_submission(app, first_name="Robin", phq9=(3, 3, 3, 3, 3, 3, 3, 3, 3),
                         gad7=(2,) * 7, difficulty=1)
    response = clinician.get(url(ref, "fhir.json"))
    assert response.status_code == 200
    assert response.mimetype == "application/fhir+json"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{ref}-fhir.json"'
    assert response.headers["Cache-Control"] == "no-store"
    bundle = Bundle.model_validate_json(response.get_data())
    assert bundle.type == "collection" and bundle.identifier.value == ref
    patient, *responses = [entry.resource for entry in bundle.entry]
    assert patient.get_resource_type() == "Patient" and patient.name[0].given == ["Robin"]
    patient_url = bundle.entry[0].fullUrl
    totals = {}
    for resource in responses:
        assert isinstance(resource, QuestionnaireResponse)
        assert resource.subject.reference == patient_url
        assert resource.questionnaire.startswith("http")
        totals |= {i.linkId: i.answer[0].valueInteger for i in resource.item
                   if i.answer[0].valueInteger is not None}
    assert totals == {"/44249-1/44261-6": 27, "/69737-5/70274-6": 14}
    assert [e.target for e in audit_events(app, "export_fhir")] == [ref]


def test_an_acknowledgement_with_control_characters_is_refused(app, clinician):
    ref = add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1))
    response = acknowledge(clinician, ref, "Called\x00 the patient")
    assert response.status_code == 422
    assert "Remove the invisible control characters." in page_text(response)
    assert get_submission(app, ref).awaiting_ack


def test_tabs_and_line_breaks_are_kept_in_notes(app, clinician):
    ref = add_submission(app)
    page = clinician.get(url(ref)).get_data(as_text=True)
    response = clinician.post(url(ref, "notes"), data={"csrf_token": csrf_token(page),
                                                       "body": "Line one\r\n\tLine two"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Note.body)) == "Line one\r\n\tLine two"


def test_a_reference_with_control_characters_is_not_found(app, clinician):
    assert clinician.get("/clinician/submissions/ABCD%00EFGH").status_code == 404


@pytest.mark.parametrize("key", ["phq9", "gad7"])
def test_every_exported_response_names_a_questionnaire_the_app_serves(app, clinician, key):
    """The canonical URL in each response answers, without signing in, with a valid FHIR
    Questionnaire whose items hold every link and coding the response uses."""
    ref = add_submission(app, difficulty=1)
    bundle = Bundle.model_validate_json(clinician.get(url(ref, "fhir.json")).get_data())
    response = next(e.resource for e in bundle.entry
                    if e.resource.get_resource_type() == "QuestionnaireResponse"
                    and e.resource.questionnaire.split("|")[0].endswith(f"/{key}"))
    canonical = response.questionnaire.split("|")[0]
    path = "/" + canonical.split("/", 3)[3]
    served = app.test_client().get(path)  # anonymous
    assert served.status_code == 200 and served.mimetype == "application/fhir+json"
    questionnaire = Questionnaire.model_validate_json(served.get_data())
    assert questionnaire.url == canonical
    offered = {item.linkId: {o.valueCoding.code for o in item.answerOption or []
                             if o.valueCoding} for item in questionnaire.item}
    for item in response.item:
        assert item.linkId in offered
        if item.answer[0].valueCoding:
            assert item.answer[0].valueCoding.code in offered[item.linkId]
    assert app.test_client().get("/fhir/Questionnaire/nothing").status_code == 404
