"""The intake in Spanish in a real browser: on a phone, every page free of English (names and
numbers aside) and of axe violations; the language link keeping what was typed; and the whole
intake without JavaScript."""

from __future__ import annotations

import re
from functools import cache

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import Page, expect

from ..intake_helpers import all_submissions, valid_steps
from ..test_translations import SPANISH_PO
from .conftest import Pages
from .walk import Audit, answer, save_and_continue, send_answers, walk_intake

pytestmark = pytest.mark.browser

#: What the walk types (names, an email, medicines): shown back exactly as typed.
TYPED = ("Alex", "Testperson", "alex.testperson@example.com", "Sertraline", "Escitalopram")


@cache
def english_words() -> frozenset[str]:
    """Words of our English text that are not also words of our Spanish text ("PHQ", "no",
    "Spravato" are both): any of them on a Spanish page is English left untranslated."""
    with open(SPANISH_PO, "rb") as po:
        catalogue = read_po(po)

    def words(texts: list[str]) -> set[str]:
        return {w.lower() for t in texts for w in re.findall(r"[^\W\d_]{2,}", strip(t))}

    english, spanish = [], []
    for message in catalogue:
        if message.id:
            english += [message.id] if isinstance(message.id, str) else list(message.id)
            spanish += [message.string] if isinstance(message.string, str) else list(
                message.string)
    return frozenset(words(english) - words(spanish))


def strip(text: str) -> str:
    return re.sub(r"%\(\w+\)s|<[^>]+>", " ", text)


def english_on(page: Page) -> list[str]:
    """English words a patient could see or hear on the page: its text, its title, and the
    words of labelling attributes. Text marked ``lang="en"`` (the link to the English pages,
    named "English") is left out, as a screen reader reads it in English."""
    shown: str = page.evaluate(
        """() => {
          const clone = document.body.cloneNode(true);
          clone.querySelectorAll('[lang]:not([lang="es"])').forEach(el => el.remove());
          document.body.appendChild(clone);
          clone.hidden = false;
          const text = clone.innerText;
          clone.remove();
          const labels = [...document.querySelectorAll(
              '[aria-label], [title], [alt], [placeholder], [data-legend]')]
            .filter(el => !el.closest('[lang]:not([lang="es"])'))
            .map(el => ['aria-label', 'title', 'alt', 'placeholder', 'data-legend']
              .map(a => el.getAttribute(a) || '').join(' '));
          return [document.title, text, ...labels].join(' ');
        }"""
    )
    for typed in TYPED:
        shown = shown.replace(typed, " ")
    words = {w.lower() for w in re.findall(r"[^\W\d_]{2,}", shown)}
    return sorted(words & english_words())


def other_languages_on(page: Page) -> list[str]:
    """What the page marks as another language: only the link to the English pages."""
    return page.locator('body [lang]:not([lang="es"])').all_inner_texts()


class SpanishCheck(Audit):
    """axe, and no English, on each page shown."""

    def __init__(self) -> None:
        super().__init__()
        self.english: dict[str, list[str]] = {}

    def __call__(self, page: Page, label: str) -> None:
        super().__call__(page, label)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        left = english_on(page)
        if left:
            self.english[label] = left
        assert set(other_languages_on(page)) <= {"English"}, label

    def assert_clean(self) -> None:
        super().assert_clean()
        assert not self.english, self.english


INVALID = {
    "consent": {},
    "about": {"email": "no-es-un-correo", "date_of_birth-month": "2",
              "date_of_birth-day": "31", "date_of_birth-year": "90"},
    "phq9": {"phq9_1": "1"},
    "gad7": {"gad7_7": "2"},
    "treatment": {"trials-0-medication": "Examplezepam", "other_ketamine": "yes"},
    "health": {},
}


def test_the_whole_intake_in_spanish_on_a_phone(pages: Pages) -> None:
    """Chosen on the start page; each step with its errors, the crisis panel, a row added by
    script, the review, the confirmation: axe 0 and no English."""
    check = SpanishCheck()
    page = pages.open()  # 390 px wide

    def each_step(page: Page, key: str) -> None:
        check(page, key)
        answer(page, INVALID[key])
        save_and_continue(page, "es")
        expect(page.locator("[data-error-summary]")).to_be_visible()
        check(page, f"{key} with errors")
        if key == "phq9":
            page.locator('input[name="phq9_9"][value="1"]').check()
            expect(page.locator("#item9-crisis")).to_be_visible()
            check(page, "phq9 with the crisis panel")
        if key == "treatment":
            page.get_by_role("button", name="Agregar otro antidepresivo").click()
            expect(page.get_by_role("group", name="Antidepresivo 3")).to_be_visible()
            check(page, "treatment with a row added")
            page.locator('[name="trials-0-medication"]').fill("")

    page.goto("/")
    page.locator('.language-offer a[lang="es"]').click()
    check(page, "start")
    walk_intake(page, on_page=each_step, language="es", phq9={"phq9_9": "1"})
    check(page, "review")
    expect(page.get_by_text("14 de junio de 1984")).to_be_visible()
    send_answers(page, "es")
    expect(page.locator("#done-crisis")).to_be_visible()
    check(page, "confirmation")
    page.goto("/crisis")
    check(page, "crisis")
    page.goto("/no-such-page")
    check(page, "404 page")

    check.assert_clean()
    assert len(check.checked) == 19
    [submission] = all_submissions(pages.server.app)
    assert submission.language == "es" and submission.urgent


def test_the_english_check_finds_english(pages: Pages) -> None:
    page = pages.open()
    page.goto("/?lang=es")
    assert english_on(page) == []
    page.evaluate("document.querySelector('h1').textContent = 'Save and continue, please'")
    assert english_on(page) == ["and", "continue", "please", "save"]


def test_the_language_link_on_a_step_keeps_what_was_typed(pages: Pages) -> None:
    page = pages.open()
    walk_intake_to(page, "phq9")
    typed = {"phq9_1": "2", "phq9_2": "3", "phq9_5": "1"}
    answer(page, typed)
    with page.expect_navigation():
        page.locator('header a[lang="es"]').click()
    expect(page).to_have_url(re.compile(r"/intake/phq9$"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Cómo se ha sentido")
    for name, value in typed.items():
        expect(page.locator(f'input[name="{name}"][value="{value}"]')).to_be_checked()
    expect(page.locator("[data-error-summary]")).to_have_count(0)
    with page.expect_navigation():
        page.locator('header a[lang="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    for name, value in typed.items():
        expect(page.locator(f'input[name="{name}"][value="{value}"]')).to_be_checked()


def walk_intake_to(page: Page, step: str) -> None:
    page.goto("/")
    page.get_by_role("link", name="Start", exact=True).click()
    for key, fields in valid_steps().items():
        if key == step:
            return
        answer(page, fields)
        save_and_continue(page)


def test_the_whole_intake_in_spanish_without_javascript(pages: Pages) -> None:
    page = pages.open(java_script_enabled=False)
    seen = []

    def each_step(page: Page, key: str) -> None:
        seen.append(key)
        expect(page.locator("html")).to_have_attribute("lang", "es")
        if key == "gad7":
            expect(page.locator("#crisis-panel")).to_contain_text("marque 2")

    walk_intake(page, on_page=each_step, language="es", phq9={"phq9_9": "2"})
    assert seen == ["consent", "about", "phq9", "gad7", "treatment", "health"]
    # The header link works without script too (from a page with nothing typed on it).
    page.locator('header a[lang="en"]').click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator('header a[lang="es"]').click()
    send_answers(page, "es")
    expect(page.locator("#done-crisis")).to_contain_text("AYUDA")
