"""The audit trail browser: admins only, newest first, filters, pagination; read-only."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from screening.extensions import db
from screening.models import AuditEvent

from .auth_helpers import login, make_user

ADMIN = "robin.admin@example.com"
CLINICIAN = "casey.clinician@example.com"


def add_events(app, *events: tuple[str, str | None, dt.datetime]) -> None:
    """Audit rows written straight to the table: (action, user email, when)."""
    with app.app_context():
        for action, email, at in events:
            db.session.add(AuditEvent(action=action, user_email=email, at=at, details={}))
        db.session.commit()


def day(n: int, hour: int = 12) -> dt.datetime:
    return dt.datetime(2025, 1, n, hour, tzinfo=dt.UTC)


def rows(page: str) -> list[tuple[str, str, str]]:
    """(time, who, action) of each table row, in page order."""
    body = page.split("<tbody>", 1)[1] if "<tbody>" in page else ""
    cells = re.findall(
        r"<tr>\s*<td><time[^>]*>([^<]+)</time></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", body
    )
    return [tuple(c.strip() for c in cell) for cell in cells]


@pytest.fixture
def admin(app):
    make_user(app, ADMIN, role="admin")
    client = app.test_client()
    login(client, ADMIN)
    return client


def test_clinicians_get_403_and_anonymous_visitors_are_sent_to_sign_in(app):
    make_user(app, CLINICIAN)
    client = app.test_client()
    assert client.get("/clinician/audit").location.startswith("/clinician/login")
    login(client, CLINICIAN)
    assert client.get("/clinician/audit").status_code == 403


def test_newest_first(app, admin):
    add_events(
        app, ("note_added", "a@example.com", day(2)), ("export_csv", "b@example.com", day(3))
    )
    page = admin.get("/clinician/audit").get_data(as_text=True)
    found = rows(page)
    # The admin's own sign-in (today) comes first, then day 3, then day 2.
    assert [r[2] for r in found] == ["sign_in", "export_csv", "note_added"]
    assert found[1][0] == "2025-01-03 12:00:00 UTC"


def test_filter_by_action(app, admin):
    add_events(
        app, ("note_added", "a@example.com", day(2)), ("export_csv", "b@example.com", day(3))
    )
    page = admin.get("/clinician/audit?action=export_csv").get_data(as_text=True)
    assert [r[2] for r in rows(page)] == ["export_csv"]
    assert '<option selected value="export_csv">' in page or 'value="export_csv" selected' in page


def test_filter_by_user_email_part_case_insensitively(app, admin):
    add_events(
        app,
        ("note_added", "alex.one@example.com", day(2)),
        ("note_added", "sam.two@example.com", day(3)),
        ("note_added", "a_b@example.com", day(4)),
    )
    page = admin.get("/clinician/audit?user=ALEX").get_data(as_text=True)
    assert [r[1] for r in rows(page)] == ["alex.one@example.com"]
    # "_" is a literal, not a LIKE wildcard.
    page = admin.get("/clinician/audit?user=a_b").get_data(as_text=True)
    assert [r[1] for r in rows(page)] == ["a_b@example.com"]


def test_filter_by_date_range_inclusive(app, admin):
    add_events(
        app,
        ("note_added", "x@example.com", day(1, 23)),
        ("note_added", "x@example.com", day(2, 0)),
        ("note_added", "x@example.com", day(3, 23)),
        ("note_added", "x@example.com", day(4, 0)),
    )
    page = admin.get("/clinician/audit?date_from=2025-01-02&date_to=2025-01-03")
    assert [r[0] for r in rows(page.get_data(as_text=True))] == [
        "2025-01-03 23:00:00 UTC",
        "2025-01-02 00:00:00 UTC",
    ]


@pytest.mark.parametrize(
    "query, message",
    [
        ("date_from=2025-13-40", "Not a valid date"),
        ("date_from=2025-01-05&date_to=2025-01-01", "before the start date"),
        ("action=no_such_action", "Not a valid choice"),
        ("user=a%00b", "control characters"),
    ],
)
def test_bad_filters_are_named_not_a_500(app, admin, query, message):
    response = admin.get(f"/clinician/audit?{query}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert 'aria-invalid="true"' in page
    assert rows(page) == []


def test_pagination_is_done_in_sql_and_keeps_the_filters(app, admin):
    base = day(10)
    add_events(
        app,
        *[("note_added", "x@example.com", base + dt.timedelta(minutes=i)) for i in range(60)],
    )
    first = admin.get("/clinician/audit?action=note_added").get_data(as_text=True)
    assert len(rows(first)) == 50
    assert "60 entries, page 1 of 2" in first
    older = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "action=note_added" in older and "page=2" in older
    second = admin.get(older).get_data(as_text=True)
    assert len(rows(second)) == 10
    assert rows(second)[-1][0] == "2025-01-10 12:00:00 UTC"  # the oldest, last
    assert rows(admin.get("/clinician/audit?page=99").get_data(as_text=True)) == []
    assert admin.get("/clinician/audit?page=-3").status_code == 200
    assert admin.get("/clinician/audit?page=abc").status_code == 200


def test_sign_in_events_appear_with_address_and_never_a_password(app, admin):
    anonymous = app.test_client()
    login(anonymous, ADMIN, "a wrong password typed here")
    page = admin.get("/clinician/audit?action=sign_in_failed").get_data(as_text=True)
    assert [r[1] for r in rows(page)] == [ADMIN]
    assert "127.0.0.1" in page
    assert "a wrong password typed here" not in page


def test_no_route_changes_or_deletes_audit_rows(app):
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule or "audit" in rule.endpoint:
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule.rule


def test_the_staff_layout_shows_no_patient_data_in_its_chrome(app, admin):
    with admin.session_transaction() as cookie_session:
        cookie_session["submitted_reference"] = "PATIENTREF"
    page = admin.get("/clinician/audit").get_data(as_text=True)
    assert "PATIENTREF" not in page
    assert "Signed in as robin.admin@example.com" in page
    assert "If you need help right now" not in page  # the patient footer is not on staff pages

