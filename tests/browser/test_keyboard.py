"""The whole intake with the keyboard alone: Tab, Shift+Tab, Space, Enter and arrow keys.

At every stop the focused element must show a visible focus indicator (a 2 px or thicker
outline, or a ring drawn with box-shadow), and the honeypot must never take focus.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from ..intake_helpers import valid_steps
from .conftest import Pages
from .walk import focus_is_visible, focus_outline

pytestmark = pytest.mark.browser

THIRD_TRIAL = {
    "trials-2-medication": "Examplamine",
    "trials-2-weeks": "12",
    "trials-2-as_prescribed": "yes",
    "trials-2-response": "helped_a_lot",
}


class Keyboard:
    """Presses keys and checks, after each one, where focus is and that it can be seen."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.stops = 0

    def press(self, key: str) -> dict[str, Any]:
        self.page.keyboard.press(key)
        info = focus_outline(self.page)
        assert info is not None, f"focus lost after {key}"
        assert focus_is_visible(info), f"focus not visible after {key}: {info}"
        assert info["name"] != "website", "the honeypot took keyboard focus"
        self.stops += 1
        return info

    def follow(self, key: str = "Enter") -> None:
        """A key press that loads a new page (focus then starts again at the top)."""
        with self.page.expect_navigation():
            self.page.keyboard.press(key)

    def tab(self, shift: bool = False) -> dict[str, Any]:
        return self.press("Shift+Tab" if shift else "Tab")

    def tab_to(self, selector: str, limit: int = 400) -> dict[str, Any]:
        for _ in range(limit):
            self.tab()
            if self.page.evaluate("s => document.activeElement.matches(s)", selector):
                return focus_outline(self.page) or {}
        raise AssertionError(f"Tab never reached {selector}")

    def skip_to_main(self) -> None:
        """The first Tab on a page reaches the skip link, which is then visible."""
        info = self.tab()
        assert "skip-link" in self.page.evaluate("document.activeElement.className"), info
        box = self.page.locator(".skip-link").bounding_box()
        assert box and box["y"] >= 0 and box["height"] >= 24
        self.page.keyboard.press("Enter")
        assert self.page.evaluate("document.activeElement.id") == "main"

    def choose(self, name: str, value: str) -> None:
        """In a focused radio group, move to ``value`` with the arrow keys (Space for the first)."""
        values = self.page.eval_on_selector_all(
            f'input[type="radio"][name="{name}"]', "els => els.map(e => e.value)"
        )
        target = values.index(value)
        current = values.index(self.page.evaluate("document.activeElement.value"))
        if target == current:
            self.press("Space")
        for _ in range(abs(target - current)):
            self.press("ArrowDown" if target > current else "ArrowUp")
        assert self.page.locator(f'input[name="{name}"][value="{value}"]').is_checked()

    def fill_by_tabbing(self, fields: dict[str, str], button: str) -> None:
        """Tab through the page answering each named field met, then press Enter on ``button``."""
        pending = dict(fields)
        self.skip_to_main()
        for _ in range(600):
            info = self.tab()
            name = info["name"]
            kind = self.page.evaluate("document.activeElement.type")
            if info["tag"] == "button" and info["text"] == button:
                assert not pending, f"not reached by Tab: {sorted(pending)}"
                self.follow()
                return
            if self.page.evaluate("document.activeElement.hasAttribute('data-add-trial')"):
                if any(key.startswith("trials-2-") for key in pending):
                    self.press("Enter")  # focus moves to the new row's first field
                    name = self.page.evaluate("document.activeElement.name")
                    kind = "text"
                    assert name == "trials-2-medication"
            if name not in pending:
                continue
            value = pending.pop(name)
            if kind == "radio":
                self.choose(name, value)
            elif kind == "checkbox":
                self.press("Space")
            else:
                self.page.keyboard.type(value)
        raise AssertionError(f"never reached the button {button!r}")


def test_whole_intake_with_the_keyboard_alone(pages: Pages) -> None:
    page = pages.open()
    keys = Keyboard(page)
    page.goto("/")
    keys.skip_to_main()
    link = keys.tab_to("a.button")
    assert link["text"] == "Start"
    keys.follow()
    expect(page).to_have_url(re.compile(r"/intake/consent$"))

    # Consent: send without ticking, then follow the error summary back to the box.
    keys.tab_to("button[value=continue]")
    keys.follow()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    assert focus_is_visible(focus_outline(page))
    keys.tab()
    keys.press("Enter")
    expect(page.locator("#consent")).to_be_focused()
    keys.press("Space")
    expect(page.locator("#consent")).to_be_checked()
    keys.tab()
    keys.tab(shift=True)
    expect(page.locator("#consent")).to_be_focused()
    keys.tab()
    expect(page.get_by_role("button", name="Save and continue")).to_be_focused()
    keys.follow()

    steps = valid_steps()
    steps["treatment"].update(THIRD_TRIAL)
    for key in ("about", "phq9", "gad7", "treatment", "health"):
        expect(page).to_have_url(re.compile(rf"/intake/{key}$"))
        keys.fill_by_tabbing(steps[key], "Save and continue")

    expect(page).to_have_url(re.compile(r"/intake/review$"))
    expect(page.get_by_text("Examplamine")).to_be_visible()
    keys.fill_by_tabbing({}, "Send my answers")
    expect(page).to_have_url(re.compile(r"/intake/done$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you. Your answers have been sent."
    )
    assert keys.stops > 100  # each a checked, visible focus stop


def test_focus_moves_to_the_error_summary_and_its_links_reach_each_field(page: Page) -> None:
    page.goto("/intake/consent")
    page.locator("#consent").check()
    page.get_by_role("button", name="Save and continue").click()
    expect(page).to_have_url(re.compile(r"/intake/about$"))
    page.wait_for_load_state()  # the stylesheet too, before judging how focus looks
    keys = Keyboard(page)
    keys.tab_to("button[value=continue]")
    keys.follow()  # the About step, empty
    expect(page).to_have_url(re.compile(r"/intake/about$"))
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    links = summary.get_by_role("link")
    expect(links).to_have_count(6)
    keys.tab()
    keys.press("Enter")
    expect(page.locator("#first_name")).to_be_focused()
    assert page.locator("#first_name").get_attribute("aria-describedby") == "first_name-error"
    expect(page.locator("#first_name-error")).to_have_text("Error: Enter your first name.")
    # The radio group's link lands on its first option, with its legend scrolled into view.
    links.last.click()
    expect(page.locator("#contact_method-0")).to_be_focused()
    legend = page.locator("fieldset:has(#contact_method-0) legend")
    expect(legend).to_be_in_viewport()
