"""Real-browser fixtures: Debian's Chromium driven by Playwright against a live app server.

The app runs in a background thread (werkzeug's server on 127.0.0.1, a free port) on the
test run's migrated database. Every page a test opens is watched: any request to another
origin, any failed sub-resource, any console error (CSP violations are reported there) or any
uncaught script error fails the test when it ends.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Playwright,
    sync_playwright,
)
from playwright.sync_api import Request as BrowserRequest
from playwright.sync_api import Response as BrowserResponse
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


class QuietHandler(WSGIRequestHandler):
    """No access log: URLs such as resume links are not for the test output."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    """Debian's Chromium; its absence is an error, not a skip (`make test` deselects us)."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium) or run"
            " the suite with -m 'not browser'. Never `playwright install`.",
            pytrace=False,
        )
    browser = playwright_instance.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@contextmanager
def serve(app: Flask) -> Iterator[LiveServer]:
    """Serve ``app`` over HTTP on 127.0.0.1 (a free port) until the block ends."""
    server: BaseWSGIServer = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The app behind a real HTTP server; tables are emptied after each test."""
    # SERVER_NAME "localhost" (the test default) would turn away requests to 127.0.0.1.
    with serve(make_app(SERVER_NAME=None)) as server:
        yield server


@dataclass
class PageWatch:
    """Everything a page did that a test should not have to look for one by one."""

    origin: str
    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    bad_responses: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("request", self._on_request)
        page.on("requestfailed", self._on_failed)
        page.on("response", self._on_response)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def _on_request(self, request: BrowserRequest) -> None:
        self.requests.append(request.url)

    def _on_failed(self, request: BrowserRequest) -> None:
        # A navigation replaced by another (a form sent while a page loads) is not a fault.
        if request.failure != "net::ERR_ABORTED":
            self.failed.append(f"{request.url}: {request.failure}")

    def _on_response(self, response: BrowserResponse) -> None:
        # Error statuses are expected for pages we ask for (404 page, 422 form errors), never
        # for a stylesheet, script or icon.
        if response.status >= 400 and response.request.resource_type != "document":
            self.bad_responses.append(f"{response.status} {response.url}")

    def _on_console(self, message: ConsoleMessage) -> None:
        # "Failed to load resource" repeats a status already judged in _on_response.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.console_errors.append(message.text)

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not same_origin(url, self.origin)]

    def problems(self) -> list[str]:
        return (
            [f"request to another origin: {url}" for url in self.foreign_requests()]
            + [f"request failed: {text}" for text in self.failed]
            + [f"sub-resource error: {text}" for text in self.bad_responses]
            + [f"console error: {text}" for text in self.console_errors]
            + [f"script error: {text}" for text in self.page_errors]
        )


def same_origin(url: str, origin: str) -> bool:
    if url.startswith(("data:", "about:")):
        return True  # drawn from the page itself: no network
    url = url.removeprefix("blob:")
    parts, own = urlsplit(url), urlsplit(origin)
    return (parts.scheme, parts.netloc) == (own.scheme, own.netloc)


@dataclass
class Pages:
    """Opens watched pages in fresh browser contexts (each its own cookies)."""

    browser: Browser
    server: LiveServer
    contexts: list[BrowserContext] = field(default_factory=list)
    watches: list[PageWatch] = field(default_factory=list)

    def open(self, **context_options: Any) -> Page:
        options = {"viewport": PHONE, "base_url": self.server.url, **context_options}
        context = self.browser.new_context(**options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        watch = PageWatch(self.server.url)
        watch.attach(page)
        self.watches.append(watch)
        page.watch = watch  # type: ignore[attr-defined]
        return page

    def close(self) -> list[str]:
        for context in self.contexts:
            context.close()
        return [problem for watch in self.watches for problem in watch.problems()]


@pytest.fixture
def pages(browser: Browser, live_server: LiveServer) -> Iterator[Pages]:
    opened = Pages(browser, live_server)
    yield opened
    problems = opened.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def page(pages: Pages) -> Page:
    """A phone-sized page with JavaScript on."""
    return pages.open()
