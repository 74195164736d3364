"""A patient's actions in a real browser, using the synthetic answers of ``intake_helpers``."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from ..intake_helpers import valid_steps

STEPS = ("consent", "about", "phq9", "gad7", "treatment", "health")
#: The buttons and links a walk presses, by the language of the pages.
WORDS = {
    "en": {"start": "Start", "continue": "Save and continue", "send": "Send my answers"},
    "es": {"start": "Empezar", "continue": "Guardar y continuar", "send": "Enviar mis respuestas"},
}
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


def answer(page: Page, fields: dict[str, Any]) -> None:
    """Fill in a step's fields by name, the way a patient would (click, type)."""
    for name, value in fields.items():
        inputs = page.locator(f'[name="{name}"]')
        kind = inputs.first.get_attribute("type")
        if kind == "radio":
            page.locator(f'input[name="{name}"][value="{value}"]').check()
        elif kind == "checkbox":
            inputs.check()
        else:
            inputs.fill(str(value))


def save_and_continue(page: Page, language: str = "en") -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=WORDS[language]["continue"]).click()


def start(page: Page, language: str = "en") -> None:
    """Open the start page (in ``language``, by its link when that is not English) and start."""
    page.goto("/")
    if page.locator("html").get_attribute("lang") != language:
        page.locator(f'.language-offer a[lang="{language}"]').click()
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_role("link", name=WORDS[language]["start"], exact=True).click()
    expect(page).to_have_url(re.compile(r"/intake/consent$"))


def walk_intake(
    page: Page,
    on_page: Callable[[Page, str], None] | None = None,
    language: str = "en",
    **overrides: dict[str, Any],
) -> None:
    """From the start page to the review page; ``on_page`` sees each step before it is filled."""
    start(page, language)
    for key, fields in valid_steps(**overrides).items():
        expect(page).to_have_url(re.compile(rf"/intake/{key}$"))
        if on_page:
            on_page(page, key)
        answer(page, fields)
        save_and_continue(page, language)
    expect(page).to_have_url(re.compile(r"/intake/review$"))


def send_answers(page: Page, language: str = "en") -> None:
    page.get_by_role("button", name=WORDS[language]["send"]).click()
    expect(page).to_have_url(re.compile(r"/intake/done$"))


def axe_violations(page: Page) -> str:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as a report ('' when none)."""
    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    results = AXE.run(page, options=options)
    return results.generate_report() if results.violations_count else ""


class Audit:
    """Runs axe on each page shown and keeps the reports of pages that fail."""

    def __init__(self) -> None:
        self.checked: list[str] = []
        self.failures: dict[str, str] = {}

    def __call__(self, page: Page, label: str) -> None:
        page.wait_for_load_state()
        self.checked.append(label)
        report = axe_violations(page)
        if report:
            self.failures[label] = report

    def assert_clean(self) -> None:
        assert not self.failures, "\n\n".join(f"== {k}\n{v}" for k, v in self.failures.items())


def focus_outline(page: Page) -> dict[str, Any] | None:
    """How the focused element shows focus: outline width and style, and any box-shadow."""
    return page.evaluate(
        """() => {
          const el = document.activeElement;
          if (!el || el === document.body) return null;
          const style = getComputedStyle(el);
          return {
            tag: el.tagName.toLowerCase(),
            id: el.id,
            name: el.getAttribute('name'),
            text: (el.textContent || '').trim().slice(0, 40),
            outline: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
            shadow: style.boxShadow,
          };
        }"""
    )


def focus_is_visible(info: dict[str, Any] | None) -> bool:
    """A 2 px or thicker outline, or a box-shadow ring."""
    return bool(info) and (info["outline"] >= 2 or info["shadow"] not in ("", "none"))
