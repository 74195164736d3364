"""The clinic's time zone (SCREENING_TIMEZONE): every time staff see is in it, with its
abbreviation; waiting times stay exact across daylight-saving changes; date filters are the
clinic's days; the CSV stays UTC."""

from __future__ import annotations

import datetime as dt
import html
import logging
import re

import pytest

from screening.clinician import views as clinician_views
from screening.extensions import db
from screening.models import AuditEvent
from screening.web import clinic_time

from .auth_helpers import login, make_user
from .clinician_helpers import add_submission, signed_in, use_cheap_password_hashing

DENVER = "America/Denver"
UTC = dt.UTC


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def text_of(response) -> str:
    body = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    use_cheap_password_hashing(monkeypatch)


@pytest.fixture
def denver(make_app):
    return make_app(TIMEZONE=DENVER)


def test_an_unset_time_zone_means_utc_with_a_warning_at_start(make_app, caplog):
    with caplog.at_level(logging.WARNING, logger="screening.web.clinic_time"):
        app = make_app()
    assert "SCREENING_TIMEZONE is not set" in caplog.text
    with app.app_context():
        assert clinic_time.staff_time(at(2026, 3, 8, 8, 30)) == (
            '<time datetime="2026-03-08T08:30:00Z">2026-03-08 08:30 UTC</time>'
        )


def test_a_set_time_zone_starts_without_a_warning(make_app, caplog):
    with caplog.at_level(logging.WARNING, logger="screening.web.clinic_time"):
        make_app(TIMEZONE=DENVER)
    assert "SCREENING_TIMEZONE" not in caplog.text


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "America/../../etc/passwd", "MDT"])
def test_an_unknown_time_zone_stops_the_app_at_start(make_app, name):
    with pytest.raises(RuntimeError, match="SCREENING_TIMEZONE"):
        make_app(TIMEZONE=name)


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        (at(2026, 1, 15, 19, 5), "2026-01-15 12:05 MST"),
        (at(2026, 3, 8, 8, 59), "2026-03-08 01:59 MST"),  # the minute before the change
        (at(2026, 3, 8, 9, 0), "2026-03-08 03:00 MDT"),  # 2:00 MST is 3:00 MDT
        (at(2026, 7, 4, 6, 30), "2026-07-04 00:30 MDT"),
        (at(2026, 11, 1, 7, 30), "2026-11-01 01:30 MDT"),  # 1:30 happens twice that night
        (at(2026, 11, 1, 8, 30), "2026-11-01 01:30 MST"),
    ],
)
def test_staff_times_are_the_clinics_with_the_zones_abbreviation(denver, instant, shown):
    with denver.app_context():
        found = str(clinic_time.staff_time(instant))
    assert found == f'<time datetime="{instant.strftime("%Y-%m-%dT%H:%M:%SZ")}">{shown}</time>'


def test_every_time_on_the_submission_page_is_the_clinics(denver, monkeypatch):
    reference = add_submission(denver, phq9=(1,) * 9, submitted_at=at(2026, 3, 8, 8, 30))
    monkeypatch.setattr(clinician_views, "utcnow", lambda: at(2026, 3, 8, 10, 30))
    page = signed_in(denver).get(f"/clinician/submissions/{reference}")
    body = page.get_data(as_text=True)
    assert '<time datetime="2026-03-08T08:30:00Z">2026-03-08 01:30 MST</time>' in body
    assert '<time datetime="2026-03-08T08:00:00Z">2026-03-08 01:00 MST</time>' in body  # consent
    assert "UTC" not in text_of(page)
    assert "June 14, 1984" in text_of(page)
    assert '<time datetime="1984-06-14">June 14, 1984</time>' in body


@pytest.mark.parametrize(
    ("submitted", "now", "wall_clock"),
    [
        # Spring forward: 01:30 MST to 04:30 MDT is 3 hours on the wall, 2 hours waited.
        (at(2026, 3, 8, 8, 30), at(2026, 3, 8, 10, 30), ("01:30 MST", "04:30 MDT")),
        # Fall back: 01:30 MDT to 02:30 MST is 1 hour on the wall, 2 hours waited.
        (at(2026, 11, 1, 7, 30), at(2026, 11, 1, 9, 30), ("01:30 MDT", "02:30 MST")),
    ],
    ids=["2026-03-08", "2026-11-01"],
)
def test_waiting_time_is_exact_across_daylight_saving_changes(
    denver, monkeypatch, submitted, now, wall_clock
):
    reference = add_submission(denver, phq9=(0,) * 8 + (2,), submitted_at=submitted)
    monkeypatch.setattr(clinician_views, "utcnow", lambda: now)
    clinician = signed_in(denver)
    dashboard = text_of(clinician.get("/clinician/"))
    assert "Urgent: waiting 2 hours" in dashboard
    assert wall_clock[0] in dashboard
    page = text_of(clinician.get(f"/clinician/submissions/{reference}"))
    assert "Not yet acknowledged: waiting 2 hours" in page
    with denver.app_context():
        assert clinic_time.staff_time(now).endswith(f"{wall_clock[1]}</time>")


def test_dashboard_dates_are_the_clinics_days(denver, make_app):
    late_evening = add_submission(denver, submitted_at=at(2026, 3, 10, 5, 0))  # 9th, 23:00 MDT
    early = add_submission(denver, submitted_at=at(2026, 3, 9, 6, 30))  # 9th, 00:30 MDT
    clinician = signed_in(denver)

    def found(query: str) -> set[str]:
        body = clinician.get(f"/clinician/?{query}").get_data(as_text=True)
        return set(re.findall(r'href="/clinician/submissions/([A-Z0-9-]{9})"', body))

    assert found("since=2026-03-09&until=2026-03-09") == {late_evening, early}
    assert found("since=2026-03-10") == set()
    assert found("until=2026-03-08") == set()
    # In UTC the same filters read UTC days.
    utc = signed_in(make_app(), email="robin.utc@example.com")
    body = utc.get("/clinician/?since=2026-03-10&until=2026-03-10").get_data(as_text=True)
    assert late_evening in body and early not in body


def test_the_audit_trails_dates_are_the_clinics_days(denver):
    make_user(denver, "robin.admin@example.com", role="admin")
    admin = denver.test_client()
    login(admin, "robin.admin@example.com")
    with denver.app_context():
        for hour in (6, 7):  # 23:00 and 00:00 MST, either side of midnight in Denver
            db.session.add(AuditEvent(action="note_added", user_email="x@example.com",
                                      at=at(2026, 1, 16, hour), details={}))
        db.session.commit()
    page = admin.get("/clinician/audit?action=note_added&date_from=2026-01-16&date_to=2026-01-16")
    body = page.get_data(as_text=True)
    assert "2026-01-16 00:00:00 MST" in body
    assert "2026-01-15 23:00:00 MST" not in body
    assert "America/Denver" in text_of(page)


def test_the_csv_stays_utc_whatever_the_clinics_zone(make_app):
    """The export is a contract: the same rows are the same bytes in any time zone."""
    exports = []
    for zone in (None, DENVER):
        app = make_app(TIMEZONE=zone)
        if not exports:
            add_submission(app, submitted_at=at(2026, 3, 8, 8, 30), reference="ABCD-EFGH")
        clinician = signed_in(app, email=f"casey.{len(exports)}@example.com")
        exports.append(clinician.get("/clinician/export.csv").get_data())
    assert exports[0] == exports[1]
    assert b"ABCD-EFGH,2026-03-08T08:30:00Z," in exports[0]


def test_patients_see_the_expiry_of_a_saved_draft_on_the_clinics_date(make_app, monkeypatch):
    """Late in the evening in Denver, a week later is still that evening's date there."""
    from screening import clock

    from .conftest import post_form
    from .intake_helpers import walk_to

    monkeypatch.setattr(clock, "utcnow", lambda: at(2026, 6, 2, 4, 0))  # 1 June, 22:00 MDT
    client = make_app(TIMEZONE=DENVER).test_client()
    walk_to(client, "phq9")
    post_form(client, "/intake/phq9", {"action": "save_later"})
    assert "kept until June 8, 2026" in text_of(client.get("/intake/saved"))
