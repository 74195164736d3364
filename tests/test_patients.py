"""Patient records: possible matches shown to staff, decided by a clinician, audited, undone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from screening.extensions import db
from screening.models import AuditEvent, Patient, PatientLink, Submission, User

from .clinician_helpers import add_submission, signed_in, use_cheap_password_hashing
from .conftest import csrf_token
from .intake_helpers import complete_intake
from .test_dashboard import page_text

BORN = dt.date(1979, 2, 3)


@pytest.fixture
def clinician(app, monkeypatch):
    use_cheap_password_hashing(monkeypatch)
    return signed_in(app)


def patient_id(app, reference: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(Submission.patient_id).where(Submission.reference == reference))


def notice(page: str) -> str:
    """The possible-match notice's text, or "" when the page has none."""
    found = re.search(r'<section class="notice possible-matches".*?</section>', page, re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(0))) if found else ""


def actions(app, *names: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [(e.action, e.target) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action.in_(names)).order_by(AuditEvent.id))]


def decide(client, first: int, second: int, decision: str):
    url = f"/clinician/patients/{first}/compare/{second}"
    token = csrf_token(client.get(url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, "decision": decision})


def test_a_second_intake_with_the_same_birth_date_and_email_is_flagged_as_possibly_the_same(
    app, client, clinician
):
    complete_intake(client, about={"email": "Robin.Q@Example.com "})
    complete_intake(app.test_client(), about={"email": "robin.q@example.com", "phone": "555 0199"})
    with app.app_context():
        first, second = db.session.scalars(select(Submission).order_by(Submission.id)).all()
        references = (first.reference, second.reference)
        ids = (first.patient_id, second.patient_id)
    assert ids[0] != ids[1]  # two records: nothing is joined automatically
    for reference, own, other in ((references[0], ids[0], ids[1]),
                                  (references[1], ids[1], ids[0])):
        page = clinician.get(f"/clinician/submissions/{reference}").get_data(as_text=True)
        text = notice(page)
        assert "Possibly the same person as another record" in text
        assert "the same date of birth and email" in text
        assert f"/clinician/patients/{own}/compare/{other}" in page


def test_the_same_birth_date_and_phone_written_differently_is_a_possible_match(app, clinician):
    first = add_submission(app, date_of_birth=BORN, phone="+1 (555) 010-9911")
    second = add_submission(app, date_of_birth=BORN, phone="555.010.9911")
    text = notice(clinician.get(f"/clinician/submissions/{second}").get_data(as_text=True))
    assert "the same date of birth and phone number" in text
    assert notice(clinician.get(f"/clinician/submissions/{first}").get_data(as_text=True))


@pytest.mark.parametrize("other", [
    {"date_of_birth": BORN + dt.timedelta(days=1), "phone": "555 010 9911"},  # another birthday
    {"date_of_birth": BORN, "phone": "555 010 9912"},  # another phone, another email
])
def test_records_that_share_less_are_not_flagged(app, clinician, other):
    first = add_submission(app, date_of_birth=BORN, phone="555 010 9911")
    add_submission(app, **other)
    assert notice(clinician.get(f"/clinician/submissions/{first}").get_data(as_text=True)) == ""


def test_a_clinician_links_two_records_and_sees_one_patient_then_undoes_it(app, clinician):
    first = add_submission(app, first_name="Robin", date_of_birth=BORN, phone="555 010 9911",
                           submitted_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    second = add_submission(app, first_name="Robyn", date_of_birth=BORN, phone="555 010 9911",
                            submitted_at=dt.datetime(2026, 4, 5, 9, 0, tzinfo=dt.UTC))
    earlier, later = patient_id(app, first), patient_id(app, second)

    compared = clinician.get(f"/clinician/patients/{later}/compare/{earlier}")
    assert compared.status_code == 200
    side_by_side = page_text(compared)
    assert "Robin" in side_by_side and "Robyn" in side_by_side
    assert first in side_by_side and second in side_by_side

    response = decide(clinician, later, earlier, "same")
    assert response.status_code == 302
    assert response.location.endswith(f"/clinician/patients/{earlier}")
    page = clinician.get(f"/clinician/patients/{earlier}")
    text = page_text(page)
    assert first in text and second in text  # both intakes on one page
    assert "Records shown together" in text and "Robyn" in text
    assert notice(page.get_data(as_text=True)) == ""  # decided: no notice any more
    # The later record's page is the earlier one's; its intake names the earlier patient.
    assert clinician.get(f"/clinician/patients/{later}").location.endswith(
        f"/clinician/patients/{earlier}")
    submission_page = clinician.get(f"/clinician/submissions/{second}").get_data(as_text=True)
    assert f'href="/clinician/patients/{earlier}"' in submission_page
    assert notice(submission_page) == ""
    assert actions(app, "link_patients") == [("link_patients", f"patient:{later}")]

    with app.app_context():
        link_id = db.session.scalar(select(PatientLink.id))
    token = csrf_token(page.get_data(as_text=True))
    undone = clinician.post(f"/clinician/patients/{earlier}/links/{link_id}/undo",
                            data={"csrf_token": token})
    assert undone.status_code == 302
    assert clinician.get(f"/clinician/patients/{later}").status_code == 200  # apart again
    assert "Possibly the same person" in notice(
        clinician.get(f"/clinician/patients/{earlier}").get_data(as_text=True))
    assert actions(app, "unlink_patients") == [("unlink_patients", f"patient:{later}")]
    with app.app_context():
        link = db.session.get(PatientLink, link_id)
        assert link.undone_at is not None and link.decision == "same"  # kept, for the record


def test_different_people_stop_the_notice(app, clinician):
    first = add_submission(app, date_of_birth=BORN, phone="555 010 9911",
                           submitted_at=dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC))
    second = add_submission(app, date_of_birth=BORN, phone="555 010 9911",
                            submitted_at=dt.datetime(2026, 4, 5, 9, 0, tzinfo=dt.UTC))
    earlier, later = patient_id(app, first), patient_id(app, second)
    assert decide(clinician, earlier, later, "different").status_code == 302
    for reference in (first, second):
        page = clinician.get(f"/clinician/submissions/{reference}").get_data(as_text=True)
        assert notice(page) == ""
    assert clinician.get(f"/clinician/patients/{later}").status_code == 200  # not joined
    assert actions(app, "mark_patients_different") == [
        ("mark_patients_different", f"patient:{later}")]


def test_a_decision_needs_a_choice_and_a_csrf_token(app, clinician):
    first = add_submission(app, date_of_birth=BORN, phone="555 010 9911")
    second = add_submission(app, date_of_birth=BORN, phone="555 010 9911")
    earlier, later = patient_id(app, first), patient_id(app, second)
    url = f"/clinician/patients/{later}/compare/{earlier}"
    token = csrf_token(clinician.get(url).get_data(as_text=True))
    missing = clinician.post(url, data={"csrf_token": token})
    assert missing.status_code == 422
    assert "Choose whether these records are the same person." in page_text(missing)
    assert clinician.post(url, data={"decision": "same"}).status_code == 400
    tampered = clinician.post(url, data={"csrf_token": token, "decision": "merge"})
    assert tampered.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(PatientLink.id)) is None


def test_patient_pages_are_for_staff_and_audited(app, client, clinician):
    reference = add_submission(app)
    record = patient_id(app, reference)
    assert client.get(f"/clinician/patients/{record}").status_code == 302  # sign in first
    assert clinician.get(f"/clinician/patients/{record}").status_code == 200
    assert clinician.get("/clinician/patients/999999").status_code == 404
    assert clinician.get(f"/clinician/patients/{record}/compare/{record}").status_code == 404
    assert actions(app, "view_patient") == [("view_patient", f"patient:{record}")]


def test_erasing_the_only_intake_of_a_record_erases_the_record_and_its_decisions(
    app, clinician
):
    first = add_submission(app, date_of_birth=BORN, phone="555 010 9911")
    second = add_submission(app, date_of_birth=BORN, phone="555 010 9911")
    earlier, later = patient_id(app, first), patient_id(app, second)
    decide(clinician, later, earlier, "same")
    admin = signed_in(app, "robin.admin@example.com")
    with app.app_context():
        db.session.execute(db.update(User).where(User.email == "robin.admin@example.com")
                           .values(role="admin"))
        db.session.commit()
    url = f"/clinician/submissions/{second}/erase"
    token = csrf_token(admin.get(url).get_data(as_text=True))
    response = admin.post(url, data={"csrf_token": token, "reason": "Asked to be erased.",
                                     "confirm": second})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Patient, later) is None
        assert db.session.get(Patient, earlier) is not None
        assert db.session.scalar(select(PatientLink.id)) is None
