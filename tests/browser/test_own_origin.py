"""Nothing from anywhere else: every request goes to the app's own origin, and nothing in the
pages needs the CSP loosened (no inline script or style, no event-handler attributes)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page

from .conftest import LiveServer, same_origin
from .walk import send_answers, walk_intake

pytestmark = pytest.mark.browser

INLINE = """() => ({
  styleAttributes: document.querySelectorAll('[style]').length,
  inlineScripts: [...document.scripts].filter(s => !s.src).length,
  styleElements: document.querySelectorAll('style').length,
  handlers: [...document.querySelectorAll('*')]
    .flatMap(el => [...el.attributes].map(a => a.name))
    .filter(name => name.startsWith('on')).length,
  fontSize: getComputedStyle(document.body).fontSize,
})"""


def test_every_request_stays_on_our_origin(page: Page, live_server: LiveServer) -> None:
    documents: list[tuple[str, str | None]] = []
    page.on(
        "response",
        lambda r: documents.append((r.url, r.headers.get("content-security-policy")))
        if r.request.resource_type == "document" else None,
    )
    inline: dict[str, dict] = {}

    def look(page: Page, label: str) -> None:
        found = page.evaluate(INLINE)
        # 18 px body text shows the stylesheet arrived and applied.
        assert found.pop("fontSize") == "18px", label
        if any(found.values()):
            inline[label] = found

    page.goto("/")
    look(page, "start")
    walk_intake(page, on_page=look, phq9={"phq9_9": "1"})
    look(page, "review")
    send_answers(page)
    look(page, "confirmation")
    page.goto("/crisis")
    look(page, "crisis")
    page.goto("/clinician/login")

    requests: list[str] = page.watch.requests  # type: ignore[attr-defined]
    assert len(requests) > 20
    assert [url for url in requests if not same_origin(url, live_server.url)] == []
    paths = {urlsplit(url).path for url in requests}
    assert {"/static/app.css", "/static/app.js"} <= paths
    assert not inline, inline
    assert documents and all(
        csp and "default-src 'self'" in csp and "'unsafe-inline'" not in csp
        for _, csp in documents
    ), documents


def test_the_origin_check_would_notice_another_origin(live_server: LiveServer) -> None:
    """The watch compares scheme, host and port, not just a prefix of the address."""
    own = live_server.url
    assert same_origin(own + "/static/app.css", own)
    assert same_origin("data:image/svg+xml,<svg/>", own)
    assert not same_origin("https://cdn.example.com/app.css", own)
    assert not same_origin(own.replace("http:", "https:") + "/", own)
    assert not same_origin(own + ".example.com/x", own)
    assert not same_origin("http://127.0.0.1:1/x", own)
