"""axe-core on every staff page (sign-in, dashboard, a submission, audit trail, password,
erase), with and without data and errors, on a laptop and a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from ..auth_helpers import PASSWORD, make_user
from ..clinician_helpers import add_submission, use_cheap_password_hashing
from .conftest import DESKTOP, PHONE, LiveServer, Pages
from .walk import Audit

pytestmark = pytest.mark.browser

ADMIN = "robin.admin@example.com"
VIEWPORTS = {"desktop": DESKTOP, "phone": PHONE}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_password_hashing(monkeypatch)


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    page.goto("/clinician/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_every_staff_page_has_no_wcag_violations(
    pages: Pages, live_server: LiveServer, viewport
) -> None:
    app = live_server.app
    make_user(app, email=ADMIN, role="admin")
    audit = Audit()
    page = pages.open(viewport=viewport)

    page.goto("/clinician/login")
    audit(page, "sign-in")
    sign_in(page, ADMIN, "not the password")
    expect(page.get_by_text("Email or password not recognised")).to_be_visible()
    audit(page, "sign-in refused")
    sign_in(page, ADMIN)
    expect(page).to_have_url(re.compile(r"/clinician/$"))
    audit(page, "dashboard, empty")

    urgent = add_submission(app, first_name="Sam", last_name="Examplesson",
                            phq9=(3, 3, 2, 2, 2, 2, 2, 2, 2), notes="Line one\nLine two")
    add_submission(app, first_name="Jo", last_name="Samplewood", safety_yes=("heart_disease",))
    add_submission(app, first_name="Kim", last_name="Fakename", phq9=(0,) * 9, gad7=(0,) * 7,
                   difficulty=None, trials=())
    page.goto("/clinician/")
    expect(page.locator("table.dashboard tbody tr")).to_have_count(3)
    audit(page, "dashboard with submissions")
    page.goto("/clinician/?since=2026-13-45&search=Sam")
    audit(page, "dashboard with a filter error")

    page.goto(f"/clinician/submissions/{urgent}")
    audit(page, "submission, urgent and not acknowledged")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit(page, "submission with an error")
    page.get_by_label("Action taken").fill("Called the patient; safety plan discussed.")
    page.get_by_role("button", name="Acknowledge").click()
    page.get_by_label("Note", exact=False).last.fill("Booked a consultation call.")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Booked a consultation call.")).to_be_visible()
    audit(page, "submission acknowledged, with a note")

    page.goto(f"/clinician/submissions/{urgent}/erase")
    audit(page, "erase")
    page.get_by_role("button", name="Erase this submission").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit(page, "erase with errors")

    page.goto("/clinician/audit")
    audit(page, "audit trail")
    page.goto("/clinician/password")
    audit(page, "password")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    audit(page, "password with errors")
    page.goto("/clinician/submissions/NOPE-NOPE")
    audit(page, "404 inside the staff area")

    audit.assert_clean()
    assert len(audit.checked) == 14
