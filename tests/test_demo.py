"""``flask demo seed``: synthetic submissions that the real rules would have flagged the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from screening import demo
from screening.clinician import queries
from screening.core.flags import assess
from screening.core.instruments import by_key
from screening.core.scoring import score
from screening.core.trials import Trial
from screening.extensions import db
from screening.models import (
    Note,
    Patient,
    QuestionnaireResponse,
    StatusChange,
    Submission,
    User,
)

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
COMPARED = ("reference", "submitted_at", "trials", "safety", "fit", "urgent", "review_status",
            "awaiting_ack")
PERSON = ("first_name", "last_name", "date_of_birth", "email", "phone")


def seeded_rows() -> list[dict[str, object]]:
    submissions = db.session.scalars(select(Submission).order_by(Submission.id)).all()
    return [
        {**{name: getattr(s, name) for name in COMPARED},
         **{name: getattr(s.patient, name) for name in PERSON},
         "answers": {r.instrument: r.answers for r in s.responses}}
        for s in submissions
    ]


def remove_seeded() -> None:
    for model in (Note, StatusChange, QuestionnaireResponse, Submission, Patient):
        db.session.execute(delete(model))
    db.session.commit()


def test_seed_stores_flags_the_real_rules_give(app):
    with app.app_context():
        assert demo.seed(300, 7, NOW) == 300
        submissions = db.session.scalars(select(Submission)).all()
        assert len(submissions) == 300
        for s in submissions:
            scores = {r.instrument: score(by_key(r.instrument), r.answers) for r in s.responses}
            assert set(scores) == {"phq9", "gad7"}
            result = assess(scores, [Trial(**t) for t in s.trials], s.safety)
            for response in s.responses:
                scored = scores[response.instrument]
                assert (response.total, response.band, response.urgent) == (
                    scored.total, scored.band, scored.alert)
                assert (response.patient_id, response.completed_at) == (
                    s.patient_id, s.submitted_at)
            assert (s.fit, s.urgent, s.needs_medical_review, s.adequate_failed_trials) == (
                result.fit, result.urgent, result.needs_medical_review,
                result.adequate_failed_trials)
            assert s.reasons == result.reasons
            assert s.contraindications == list(result.contraindications)
            assert s.ruleset == "v1"
            # Only urgent submissions wait for an acknowledgement, and an acknowledged one says
            # who acknowledged it and what they did.
            assert not s.awaiting_ack or s.urgent
            if s.urgent and not s.awaiting_ack:
                assert s.acknowledged_at and s.acknowledged_by_id and s.acknowledgement_note
            if s.acknowledged_at:
                assert not s.awaiting_ack
            assert s.submitted_at <= NOW
            assert NOW - s.submitted_at <= dt.timedelta(days=demo.SPREAD_DAYS)


def test_seed_gives_a_realistic_mix(app):
    with app.app_context():
        demo.seed(500, 3, NOW)
        submissions = db.session.scalars(select(Submission)).all()
    fits = {s.fit for s in submissions}
    assert fits == {"likely_fit", "possible_fit", "unlikely_fit"}
    assert {s.review_status for s in submissions} == set(demo.STATUS_PATHS)
    urgent = sum(s.urgent for s in submissions)
    assert 0.05 * 500 < urgent < 0.4 * 500
    assert any(s.needs_medical_review for s in submissions)
    assert any(not s.needs_medical_review for s in submissions)
    assert any(s.trials for s in submissions) and any(not s.trials for s in submissions)


def test_seeded_people_are_obviously_fake(app):
    with app.app_context():
        demo.seed(200, 5, NOW)
        submissions = db.session.scalars(select(Submission)).all()
        staff = db.session.scalars(select(User.email)).all()
        for s in submissions:
            _ = s.patient.name
    for s in submissions:
        person = s.patient
        assert person.email.endswith("@example.com")
        assert person.last_name in demo.LAST_NAMES
        assert person.phone.startswith("555 01")
        assert s.search_text == (
            f"{person.first_name} {person.last_name} {person.email} {s.reference}".lower())
    assert sorted(staff) == sorted(demo.DEMO_STAFF)


def test_seeded_people_can_be_found_by_the_dashboard_search(app):
    with app.app_context():
        demo.seed(150, 9, NOW)
        submissions = db.session.scalars(select(Submission)).all()
        for s in submissions[:: len(submissions) // 5]:
            words = (f"{s.patient.first_name[1:]} {s.patient.email.split('@')[0][-7:]}"
                     f" {s.reference[:2]}")
            page = queries.dashboard_page(queries.Filters(search=words), queries.QUEUE, False, 1)
            expected = {o.reference for o in submissions if all(
                w.lower() in o.search_text for w in words.split())}
            assert s.reference in expected
            assert {row.reference for row in page.rows} == expected
            assert page.total == len(expected)


def test_status_history_and_notes_match_each_submission(app):
    with app.app_context():
        demo.seed(300, 11, NOW)
        submissions = db.session.scalars(select(Submission)).all()
        staff_ids = set(db.session.scalars(select(User.id)))
        assert db.session.scalar(select(func.count(Note.id))) > 0
        for s in submissions:
            path = [change.to_status for change in s.status_changes]
            assert tuple(path) == demo.STATUS_PATHS[s.review_status]
            if path:
                assert s.status_changes[0].from_status == "new"
                assert s.status_changes[0].changed_at > s.submitted_at
            assert {c.user_id for c in s.status_changes} <= staff_ids
            if s.notes:
                assert path, "notes only on submissions someone has worked on"
                assert all(note.user_id in staff_ids for note in s.notes)


def test_the_same_seed_gives_the_same_data(app):
    with app.app_context():
        demo.seed(120, 42, NOW)
        first = seeded_rows()
        remove_seeded()
        demo.seed(120, 42, NOW)
        assert seeded_rows() == first
        remove_seeded()
        demo.seed(120, 43, NOW)
        assert seeded_rows() != first


def test_seeding_again_adds_rows_with_new_references(app):
    with app.app_context():
        demo.seed(50, 1, NOW)
        demo.seed(50, 1, NOW)
        references = db.session.scalars(select(Submission.reference)).all()
    assert len(references) == 100
    assert len(set(references)) == 100


def test_seed_command(app, runner):
    result = runner.invoke(args=["demo", "seed", "--count", "25", "--seed", "2", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Added 25 synthetic submissions" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id))) == 25


def test_seed_command_asks_first_and_stores_nothing_when_refused(app, runner):
    result = runner.invoke(args=["demo", "seed", "--count", "5"], input="n\n")
    assert result.exit_code != 0
    assert "Aborted" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id))) == 0


def test_seed_command_refuses_a_count_out_of_range(app, runner):
    for count in ("0", "-3", "many"):
        result = runner.invoke(args=["demo", "seed", "--count", count, "--yes"])
        assert result.exit_code == 2
        assert "--count" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id))) == 0
