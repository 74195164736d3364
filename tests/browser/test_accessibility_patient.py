"""axe-core on every patient page, in every state a patient can see, on a phone and a desktop.

Zero violations of the WCAG 2.0 and 2.1 A and AA rules; no rule is switched off.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.exc import OperationalError

from screening.intake import drafts

from ..intake_helpers import valid_steps
from .conftest import DESKTOP, PHONE, Pages, serve
from .walk import Audit, answer, save_and_continue, send_answers, start, walk_intake

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}

# Answers that make each step fail validation, as a patient might (left empty or half done).
INVALID = {
    "consent": {},
    "about": {"email": "not-an-email", "date_of_birth-day": "31", "date_of_birth-month": "2",
              "date_of_birth-year": "1990"},
    "phq9": {"phq9_1": "1"},
    "gad7": {"gad7_7": "2"},
    "treatment": {"trials-0-medication": "Examplezepam", "other_ketamine": "yes"},
    "health": {},
}


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_every_intake_page_and_state_has_no_wcag_violations(pages: Pages, viewport) -> None:
    audit = Audit()
    page = pages.open(viewport=viewport)
    page.goto("/")
    audit(page, "start")
    page.goto("/crisis")
    audit(page, "crisis")

    def each_step(page: Page, key: str) -> None:
        audit(page, key)
        answer(page, INVALID[key])
        save_and_continue(page)
        expect(page.locator("[data-error-summary]")).to_be_visible()
        audit(page, f"{key} with errors")
        if key == "treatment":
            page.get_by_role("button", name="Add another antidepressant").click()
            audit(page, "treatment with a row added")
            page.locator('[name="trials-0-medication"]').fill("")

    walk_intake(page, on_page=each_step)
    audit(page, "review")
    send_answers(page)
    audit(page, "confirmation")
    page.goto("/no-such-page")
    audit(page, "404 page")

    audit.assert_clean()
    assert len(audit.checked) == 18


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_crisis_states_have_no_wcag_violations(pages: Pages, viewport) -> None:
    audit = Audit()
    page = pages.open(viewport=viewport)

    def each_step(page: Page, key: str) -> None:
        if key == "phq9":
            page.locator('input[name="phq9_9"][value="2"]').check()
            expect(page.locator("#item9-crisis")).to_be_visible()
            audit(page, "phq9 with the crisis panel shown by script")
        if key == "gad7":
            expect(page.locator("#crisis-panel")).to_be_visible()
            audit(page, "gad7 after item 9 above 0")

    walk_intake(page, on_page=each_step, phq9={"phq9_9": "2"})
    page.goto("/intake/phq9")
    expect(page.locator("#item9-crisis")).to_be_visible()
    audit(page, "phq9 revisited with the crisis panel")
    page.goto("/intake/review")
    send_answers(page)
    expect(page.locator("#done-crisis")).to_be_visible()
    audit(page, "confirmation with crisis panel")
    audit.assert_clean()


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_save_resume_and_refusal_pages_have_no_wcag_violations(pages: Pages, viewport) -> None:
    audit = Audit()
    page = pages.open(viewport=viewport)
    start(page)
    answer(page, {"consent": "y"})
    save_and_continue(page)
    answer(page, {"first_name": "Alex", "last_name": "Testperson", "date_of_birth-day": "14",
                  "date_of_birth-month": "6", "date_of_birth-year": "1984",
                  "email": "alex.testperson@example.com", "phone": "555 010 4477",
                  "contact_method": "phone"})
    save_and_continue(page)
    page.goto("/intake/about")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page).to_have_url(re.compile(r"/intake/saved$"))
    audit(page, "saved")
    resume_url = page.locator(".resume-link a").get_attribute("href")
    assert resume_url

    other = pages.open(viewport=viewport)
    other.goto(resume_url)
    audit(other, "resume")
    other.get_by_role("button", name="Continue").click()
    audit(other, "resume with errors")
    answer(other, {"date_of_birth-day": "1", "date_of_birth-month": "1",
                   "date_of_birth-year": "1970"})
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_text("We could not open your saved answers")).to_be_visible()
    audit(other, "resume refused")

    # A form whose security token no longer matches: the friendly 400 page.
    page.goto("/intake/consent")
    page.locator('input[name="csrf_token"]').evaluate("el => { el.value = 'stale'; }")
    save_and_continue(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Something was wrong with that request"
    )
    audit(page, "400 page (stale form)")
    audit.assert_clean()


def test_outage_and_throttle_pages_have_no_wcag_violations(
    pages: Pages, browser: Browser, make_app: Callable[..., Flask],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audit = Audit()
    page = pages.open()
    start(page)
    answer(page, {"consent": "y"})
    save_and_continue(page)

    def database_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("UPDATE drafts", {}, ConnectionError("database went away"))

    # The server runs in this process, so the outage can be staged inside it.
    monkeypatch.setattr(drafts, "save_step", database_down)
    answer(page, valid_steps()["about"])
    save_and_continue(page)
    expect(page.locator("[data-error-summary]")).to_contain_text(
        "Sorry, we could not save this page"
    )
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.get_by_label("First name")).to_have_value("Alex")
    audit(page, "step not saved (database outage)")

    # A second server whose intake throttle refuses everyone: the 429 page.
    with serve(make_app(SERVER_NAME=None, INTAKE_MAX_PER_ADDRESS=0)) as server:
        throttled = Pages(browser, server)
        other = throttled.open()
        start(other)
        answer(other, {"consent": "y"})
        save_and_continue(other)
        expect(other.get_by_role("heading", level=1)).to_have_text("Too many attempts")
        audit(other, "429 page")
        assert throttled.close() == []
    audit.assert_clean()
