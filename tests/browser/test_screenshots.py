"""Screenshots of the key pages on a phone and a desktop, for the README and for review.

Each screenshot is of the first screenful, and the test checks what matters in it is on that
first screen. They are written to a temporary folder; set SCREENSHOTS_DIR=docs/screenshots to
refresh the committed ones (left out by default so a test run leaves the tree unchanged).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from ..auth_helpers import make_user
from ..clinician_helpers import add_submission, use_cheap_password_hashing
from .conftest import DESKTOP, PHONE, LiveServer, Pages
from .test_accessibility_clinician import sign_in
from .walk import answer, save_and_continue, send_answers, walk_intake

pytestmark = pytest.mark.browser

VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
MAX_BYTES = 200_000


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("SCREENSHOTS_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def in_first_screen(page: Page, locator: Locator) -> bool:
    page.wait_for_load_state()  # measured with the stylesheet applied
    box = locator.bounding_box()
    viewport = page.viewport_size
    assert box and viewport
    return box["y"] >= 0 and box["y"] + min(box["height"], 120) <= viewport["height"]


def shoot(page: Page, folder: Path, name: str) -> None:
    page.wait_for_load_state()
    page.evaluate("window.scrollTo(0, 0)")
    path = folder / f"{name}.png"
    page.screenshot(path=str(path), animations="disabled", caret="hide")
    assert 5_000 < path.stat().st_size < MAX_BYTES, (name, path.stat().st_size)


@pytest.mark.parametrize("size", VIEWPORTS, ids=VIEWPORTS.keys())
def test_patient_pages(pages: Pages, shots: Path, size: str) -> None:
    page = pages.open(viewport=VIEWPORTS[size])
    page.goto("/")
    assert in_first_screen(page, page.get_by_role("heading", level=1))
    shoot(page, shots, f"{size}-start")

    def each_step(page: Page, key: str) -> None:
        if key == "about":
            answer(page, {"first_name": "Alex", "email": "alex.testperson@example"})
            save_and_continue(page)
            summary = page.locator("[data-error-summary]")
            assert in_first_screen(page, summary)
            shoot(page, shots, f"{size}-errors")
        if key == "phq9":
            page.locator('input[name="phq9_1"][value="2"]').check()
            page.locator('input[name="phq9_1"][value="2"]').blur()
            assert in_first_screen(page, page.get_by_text("Step 3 of 7"))
            assert in_first_screen(page, page.locator("legend").first)
            shoot(page, shots, f"{size}-phq9")

    walk_intake(page, on_page=each_step, phq9={"phq9_9": "1"})
    shoot(page, shots, f"{size}-review")
    send_answers(page)
    crisis = page.locator("#done-crisis")
    expect(crisis).to_be_visible()
    assert in_first_screen(page, crisis)
    shoot(page, shots, f"{size}-confirmation-crisis")


def test_a_spanish_step_on_a_phone(pages: Pages, shots: Path) -> None:
    page = pages.open(viewport=PHONE)

    def each_step(page: Page, key: str) -> None:
        if key == "phq9":
            page.locator('input[name="phq9_1"][value="2"]').check()
            page.locator('input[name="phq9_1"][value="2"]').blur()
            assert in_first_screen(page, page.get_by_text("Paso 3 de 7"))
            assert in_first_screen(page, page.get_by_text("Poco interés o placer en hacer cosas"))
            shoot(page, shots, "phone-es-phq9")

    walk_intake(page, on_page=each_step, language="es")


@pytest.mark.parametrize("size", VIEWPORTS, ids=VIEWPORTS.keys())
def test_staff_pages(
    pages: Pages, live_server: LiveServer, shots: Path, size: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_cheap_password_hashing(monkeypatch)
    app = live_server.app
    make_user(app, email="casey.clinician@example.com")
    now = dt.datetime.now(dt.UTC)
    urgent = add_submission(app, first_name="Sam", last_name="Examplesson",
                            phq9=(3, 3, 2, 2, 2, 2, 2, 2, 1),
                            submitted_at=now - dt.timedelta(minutes=95))
    add_submission(app, first_name="Jo", last_name="Samplewood", safety_yes=("heart_disease",),
                   submitted_at=now - dt.timedelta(hours=3))
    add_submission(app, first_name="Kim", last_name="Fakename", phq9=(1,) * 8 + (0,),
                   gad7=(2,) * 7, submitted_at=now - dt.timedelta(hours=20))
    add_submission(app, first_name="Lee", last_name="Placeholder", phq9=(0,) * 9,
                   gad7=(0,) * 7, difficulty=None, trials=(),
                   submitted_at=now - dt.timedelta(days=2))
    page = pages.open(viewport=VIEWPORTS[size])
    sign_in(page, "casey.clinician@example.com")
    urgent_row = page.locator("tr.row-urgent")
    expect(urgent_row).to_have_count(1)
    shoot(page, shots, f"{size}-dashboard")

    page.goto(f"/clinician/submissions/{urgent}")
    panel = page.locator(".urgent-panel")
    expect(panel).to_be_visible()
    assert in_first_screen(page, panel)
    shoot(page, shots, f"{size}-submission")
