"""What app.js adds on top of pages that already work: crisis panel at once, more trial rows,
one submit per click; and the progress bar the stylesheet draws."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, Route, expect

from ..intake_helpers import valid_steps
from .walk import STEPS, answer, save_and_continue, start, walk_intake

pytestmark = pytest.mark.browser


def reach(page: Page, step: str) -> None:
    """Answer the steps before ``step`` with valid synthetic data."""
    start(page)
    for key, fields in valid_steps().items():
        if key == step:
            return
        answer(page, fields)
        save_and_continue(page)


def test_item9_answer_shows_crisis_resources_at_once_and_says_so(page: Page) -> None:
    reach(page, "phq9")
    panel = page.locator("#item9-crisis")
    expect(panel).to_be_hidden()
    page.locator('input[name="phq9_9"][value="1"]').check()
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Call or text 988")
    expect(page.get_by_role("status")).to_contain_text("You don't have to go through this alone")
    page.locator('input[name="phq9_9"][value="0"]').check()
    expect(panel).to_be_hidden()
    page.locator('input[name="phq9_9"][value="3"]').check()
    expect(panel).to_be_visible()
    # Focus stays where the patient is answering.
    expect(page.locator('input[name="phq9_9"][value="3"]')).to_be_focused()


def _ids_and_labels(page: Page) -> dict[str, list[str]]:
    return page.evaluate(
        """() => {
          const ids = [...document.querySelectorAll('[id]')].map(e => e.id);
          const duplicates = ids.filter((id, i) => ids.indexOf(id) !== i);
          const orphans = [...document.querySelectorAll('label[for]')]
            .filter(l => !document.getElementById(l.htmlFor)).map(l => l.htmlFor);
          const described = [...document.querySelectorAll('[aria-describedby]')]
            .flatMap(e => e.getAttribute('aria-describedby').split(/\\s+/))
            .filter(id => !document.getElementById(id));
          return {duplicates, orphans, described};
        }"""
    )


def test_add_another_antidepressant_up_to_twenty_rows(page: Page) -> None:
    reach(page, "treatment")
    rows = page.locator("[data-trial]")
    add = page.get_by_role("button", name="Add another antidepressant")
    # Two rows shown to start with; the other six blank ones wait behind the button.
    expect(page.locator("[data-trial]:visible")).to_have_count(2)
    for shown in range(3, 21):
        add.click()
        expect(page.locator("[data-trial]:visible")).to_have_count(shown)
        row = rows.nth(shown - 1)
        expect(row.locator(":scope > legend")).to_have_text(f"Antidepressant {shown}")
        medication = row.locator(f'input[name="trials-{shown - 1}-medication"]')
        expect(medication).to_be_focused()
        expect(row.get_by_label("Medication name")).to_have_value("")
    expect(add).to_be_hidden()
    expect(rows).to_have_count(20)
    assert _ids_and_labels(page) == {"duplicates": [], "orphans": [], "described": []}

    last = rows.nth(19)
    last.get_by_label("Medication name").fill("Examplamine")
    last.get_by_label("About how many weeks did you take it?").fill("9")
    last.get_by_role("radio", name="Yes").check()
    last.get_by_role("radio", name="Did not help").check()
    answer(page, {k: v for k, v in valid_steps()["treatment"].items()
                  if not k.startswith("trials-")})
    save_and_continue(page)
    expect(page).to_have_url(re.compile(r"/intake/health$"))
    answer(page, valid_steps()["health"])
    save_and_continue(page)
    expect(page.get_by_text("Examplamine")).to_be_visible()
    expect(page.get_by_text("9 weeks; taken as prescribed; did not help")).to_be_visible()


def test_a_copied_row_carries_no_answers_or_errors_of_the_row_it_came_from(page: Page) -> None:
    reach(page, "treatment")
    add = page.get_by_role("button", name="Add another antidepressant")
    for _ in range(6):
        add.click()
    answer(page, {"trials-7-medication": "Examplamine", "trials-7-as_prescribed": "yes"})
    save_and_continue(page)  # row 8 is incomplete: errors, and the page comes back
    expect(page.locator("[data-error-summary]")).to_be_focused()
    expect(page.locator("#trials-7-weeks-error")).to_be_visible()
    expect(page.locator("[data-trial]:visible")).to_have_count(8)
    add.click()
    copy = page.locator("[data-trial]").nth(8)
    expect(copy.locator(":scope > legend")).to_have_text("Antidepressant 9")
    expect(copy.locator(".field-error")).to_have_count(0)
    expect(copy.locator("[aria-invalid]")).to_have_count(0)
    expect(copy.locator("input:checked")).to_have_count(0)
    expect(copy.get_by_label("Medication name")).to_have_value("")
    weeks = copy.get_by_label("About how many weeks did you take it?")
    assert weeks.get_attribute("aria-describedby") == "trials-8-weeks-hint"
    assert _ids_and_labels(page) == {"duplicates": [], "orphans": [], "described": []}


def test_send_button_sends_once_however_often_it_is_clicked(page: Page) -> None:
    walk_intake(page)
    posts: list[str] = []

    def answer_with_no_content(route: Route) -> None:
        # 204: the browser stays on this page, so what the page does next can be watched.
        if route.request.method == "POST":
            posts.append(route.request.url)
            route.fulfill(status=204)
        else:
            route.continue_()

    page.route(re.compile(r"/intake/review$"), answer_with_no_content)
    button = page.get_by_role("button", name="Send my answers")
    button.click()
    expect(button).to_be_disabled()
    expect(button).to_have_text("Send my answers")
    button.dispatch_event("click")  # a second click or tap
    page.evaluate("document.querySelector('[data-submit-once]').form.requestSubmit()")
    page.keyboard.press("Enter")
    page.wait_for_timeout(300)  # room for a second request, were one sent
    assert posts == [posts[0]]


def test_progress_bar_fills_in_proportion_to_the_step(page: Page) -> None:
    """A native <progress> whose value and max are the step numbers ("Step N of M"): the
    browser draws the share itself, so no width per step is written anywhere."""

    def measure(page: Page, key: str) -> None:
        text = page.locator(".progress-step").inner_text()
        number, total = map(int, re.findall(r"\d+", text))
        assert number == STEPS.index(key) + 1 and total == 7
        bar = page.locator("progress.progress-bar")
        assert (bar.get_attribute("value"), bar.get_attribute("max")) == (str(number), "7")
        assert bar.evaluate("b => b.position") == pytest.approx(number / total)
        box = bar.bounding_box()
        assert box and box["width"] > 200 and box["height"] >= 6

    walk_intake(page, on_page=measure)
    bar = page.locator("progress.progress-bar")
    assert bar.evaluate("b => b.position") == 1
