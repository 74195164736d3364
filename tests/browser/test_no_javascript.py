"""The whole intake with JavaScript switched off: everything must still work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import Pages
from .walk import answer, save_and_continue, send_answers, walk_intake

pytestmark = pytest.mark.browser

LAST_ROW = {
    "trials-7-medication": "Examplamine",
    "trials-7-weeks": "12",
    "trials-7-as_prescribed": "no",
    "trials-7-response": "side_effects",
}


def test_whole_intake_without_javascript(pages: Pages) -> None:
    page = pages.open(java_script_enabled=False)
    seen: list[str] = []

    def each_step(page: Page, key: str) -> None:
        seen.append(key)
        if key == "consent":
            # Errors are still listed and linked, even though nothing moves focus.
            save_and_continue(page)
            expect(page.locator("[data-error-summary]")).to_contain_text(
                "Tick the box to agree"
            )
        if key == "phq9":
            # Without script the panel waits for the next page.
            expect(page.locator("#item9-crisis")).to_be_hidden()
        if key == "gad7":
            expect(page.locator("#crisis-panel")).to_be_visible()
        if key == "treatment":
            # Every row the server offers is there, and no button that needs script.
            expect(page.locator("[data-trial]")).to_have_count(8)
            for row in page.locator("[data-trial]").all():
                expect(row).to_be_visible()
            expect(page.get_by_role("button", name="Add another antidepressant")).to_be_hidden()
            answer(page, LAST_ROW)

    walk_intake(page, on_page=each_step, phq9={"phq9_9": "1"})
    assert seen == ["consent", "about", "phq9", "gad7", "treatment", "health"]
    expect(page.get_by_text("Examplamine")).to_be_visible()
    expect(page.get_by_text("12 weeks; not taken as prescribed")).to_be_visible()
    send_answers(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you. Your answers have been sent."
    )
    expect(page.locator("#done-crisis")).to_be_visible()


def test_saving_and_resuming_without_javascript(pages: Pages) -> None:
    page = pages.open(java_script_enabled=False)
    walk_intake(page)
    page.goto("/intake/about")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page).to_have_url(re.compile(r"/intake/saved$"))
    link = page.locator(".resume-link a").get_attribute("href")
    assert link

    later = pages.open(java_script_enabled=False)
    later.goto(link)
    answer(later, {"date_of_birth-day": "14", "date_of_birth-month": "6",
                   "date_of_birth-year": "1984"})
    later.get_by_role("button", name="Continue").click()
    expect(later).to_have_url(re.compile(r"/intake/review$"))
    send_answers(later)
