"""Reflow (WCAG 1.4.10) and touch targets on every patient page.

Two sizes: 320 CSS px wide (the width 1.4.10 names: 1280 px at 400%), and 1280x800 zoomed to
200%. Browser zoom divides the CSS pixels available by the zoom factor and multiplies the
device pixel ratio by it, so 200% of a 1280x800 window is exactly a 640x400 CSS px viewport
at device scale factor 2; that is how it is emulated here (rather than CSS `zoom`, which
changes layout differently from real browser zoom).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import Pages
from .walk import answer, save_and_continue, send_answers, walk_intake

pytestmark = pytest.mark.browser

SIZES = {
    "320px": {"viewport": {"width": 320, "height": 568}, "device_scale_factor": 1},
    "200% zoom": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}
MIN_TARGET = 44


def layout_problems(page: Page) -> list[str]:
    """Horizontal scrolling, and answers or buttons smaller than 44x44 CSS px."""
    found: dict[str, Any] = page.evaluate(
        """(min) => {
          const root = document.documentElement;
          const visible = el => el.getClientRects().length > 0
            && getComputedStyle(el).visibility !== 'hidden';
          const small = [...document.querySelectorAll(
              '.option label, button, .button, input.input, textarea.input')]
            .filter(visible)
            .map(el => [el, el.getBoundingClientRect()])
            .filter(([el, r]) => r.width < min || r.height < min)
            .map(([el, r]) => `${el.tagName.toLowerCase()} "${el.textContent.trim()
              .slice(0, 30)}" ${Math.round(r.width)}x${Math.round(r.height)}`);
          const wide = [...document.body.querySelectorAll('*')]
            .filter(el => el.getBoundingClientRect().right > root.clientWidth + 1)
            .filter(el => !el.closest('.hp, .visually-hidden, .skip-link'))
            .map(el => el.tagName.toLowerCase() + (el.className ? '.' + el.className : ''));
          return {scroll: root.scrollWidth, client: root.clientWidth, small, wide};
        }""",
        MIN_TARGET,
    )
    problems = [f"too small: {item}" for item in found["small"]]
    if found["scroll"] > found["client"]:
        problems.append(
            f"scrolls sideways: {found['scroll']} > {found['client']}; too wide: "
            + ", ".join(found["wide"][:5])
        )
    return problems


@pytest.mark.parametrize("size", SIZES, ids=SIZES.keys())
def test_patient_pages_reflow_and_have_large_targets(pages: Pages, size: str) -> None:
    page = pages.open(**SIZES[size])
    found: dict[str, list[str]] = {}

    def check(page: Page, label: str) -> None:
        page.wait_for_load_state()
        problems = layout_problems(page)
        if problems:
            found[label] = problems

    page.goto("/")
    check(page, "start")
    page.goto("/crisis")
    check(page, "crisis")

    def each_step(page: Page, key: str) -> None:
        check(page, key)
        save_and_continue(page)  # nothing filled in: every required field has an error
        expect(page.locator("[data-error-summary]")).to_be_visible()
        check(page, f"{key} with errors")
        if key == "treatment":
            page.get_by_role("button", name="Add another antidepressant").click()
            check(page, "treatment with a row added")

    walk_intake(page, on_page=each_step, phq9={"phq9_9": "1"})
    check(page, "review")
    page.goto("/intake/about")
    page.get_by_role("button", name="Save and finish later").click()
    expect(page).to_have_url(re.compile(r"/intake/saved$"))
    check(page, "saved")
    resume = page.locator(".resume-link a").get_attribute("href")
    assert resume
    page.goto(resume)
    check(page, "resume")
    answer(page, {"date_of_birth-day": "1", "date_of_birth-month": "1",
                  "date_of_birth-year": "1970"})
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("We could not open your saved answers")).to_be_visible()
    check(page, "resume refused")
    answer(page, {"date_of_birth-day": "14", "date_of_birth-month": "6",
                  "date_of_birth-year": "1984"})
    page.get_by_role("button", name="Continue").click()
    send_answers(page)
    check(page, "confirmation with crisis panel")
    page.goto("/no-such-page")
    check(page, "404 page")

    assert not found, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_the_whole_answer_row_is_the_target_and_shows_when_chosen(page: Page) -> None:
    page.goto("/intake/consent")
    # The honeypot is off-screen and takes no part in the layout a patient sees.
    expect(page.locator("#website")).not_to_be_in_viewport()
    page.locator("#consent").check()
    save_and_continue(page)
    answer(page, {"first_name": "Alex"})
    row = page.locator('label[for="contact_method-1"]')
    other = page.locator('label[for="contact_method-0"]')
    row.scroll_into_view_if_needed()
    box = row.bounding_box()
    assert box and box["width"] > 250
    # A tap at the far end of the row, well away from the radio button itself.
    page.mouse.click(box["x"] + box["width"] - 6, box["y"] + box["height"] / 2)
    expect(page.locator("#contact_method-1")).to_be_checked()
    style = "el => [getComputedStyle(el).backgroundColor, getComputedStyle(el).borderColor," \
            " getComputedStyle(el).fontWeight]"
    chosen, not_chosen = row.evaluate(style), other.evaluate(style)
    assert chosen[0] != not_chosen[0] and chosen[1] != not_chosen[1], (chosen, not_chosen)
    assert int(chosen[2]) > int(not_chosen[2])
