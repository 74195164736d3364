"""Security headers on every response (error pages included), HSTS behind trusted proxies
only, no-store on every page with patient data, and templates that a strict CSP allows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from screening import PROJECT_ROOT

from .conftest import post_form
from .intake_helpers import complete_intake

CSP_DIRECTIVES = {
    "default-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        part.split()[0]: " ".join(part.split()[1:])
        for part in (p.strip() for p in policy.split(";"))
        if part
    }


def assert_secure_headers(response) -> None:
    policy = csp(response)
    for directive, value in CSP_DIRECTIVES.items():
        assert policy.get(directive) == value, (directive, policy)
    # Scripts and styles only from files on this site: no inline code, no other origins.
    for directive in ("script-src", "style-src"):
        assert policy.get(directive, policy["default-src"]) == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert "geolocation=()" in response.headers["Permissions-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def assert_no_store(response) -> None:
    assert "no-store" in response.headers["Cache-Control"]


@pytest.fixture
def intake_client(client):
    complete_intake(client, submit=False)
    return client


PATIENT_PAGES = ["/intake/consent", "/intake/about", "/intake/phq9", "/intake/gad7",
                 "/intake/treatment", "/intake/health", "/intake/review", "/intake/saved"]


@pytest.mark.parametrize("url", PATIENT_PAGES)
def test_every_page_with_patient_answers_has_the_headers_and_is_never_cached(intake_client, url):
    response = intake_client.get(url)
    assert response.status_code == 200
    assert_secure_headers(response)
    assert_no_store(response)


def test_the_confirmation_page_and_the_submit_redirect_are_never_cached(intake_client):
    submitted = post_form(intake_client, "/intake/review", {})
    assert submitted.status_code == 302
    assert_secure_headers(submitted)
    assert_no_store(submitted)
    done = intake_client.get("/intake/done")
    assert done.status_code == 200
    assert_secure_headers(done)
    assert_no_store(done)


def error_responses(client):
    """One response of each kind of error page the app can produce."""
    yield "400 missing CSRF", client.post("/intake/consent", data={"consent": "y"})
    yield "404", client.get("/no/such/page")
    yield "405", client.delete("/intake/consent")
    yield "413", client.post("/intake/consent", data={"consent": "y", "x": "x" * 100_000})
    yield "401 staff POST", client.post("/clinician/logout")


def test_error_pages_have_the_headers_and_are_never_cached(client):
    for name, response in error_responses(client):
        assert response.status_code >= 400, name
        assert_secure_headers(response)
        assert_no_store(response)


def test_public_pages_and_static_files_have_the_headers(client):
    for url in ["/", "/crisis", "/clinician/login", "/healthz", "/static/app.css"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_secure_headers(response)
        response.close()


def test_the_health_check_and_sign_in_page_are_never_cached(client):
    for url in ["/healthz", "/clinician/login", "/"]:
        assert_no_store(client.get(url))


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/").headers
    secure = client.get("/", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    max_age = int(re.search(r"max-age=(\d+)", secure.headers["Strict-Transport-Security"])[1])
    assert max_age >= 31_536_000  # at least a year


def test_a_forwarded_https_header_is_ignored_unless_the_proxy_is_trusted(make_app):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    untrusting = make_app().test_client()
    assert "Strict-Transport-Security" not in untrusting.get("/", headers=forwarded).headers

    trusting = make_app(TRUSTED_PROXIES=1).test_client()
    response = trusting.get("/", headers=forwarded)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_no_server_version_is_revealed_by_the_app(client):
    response = client.get("/")
    assert "Server" not in response.headers  # the app sets none; gunicorn's is checked in
    assert "X-Powered-By" not in response.headers  # test_load.py


# --- templates a strict CSP allows -----------------------------------------------------------

TEMPLATES = sorted(Path(PROJECT_ROOT, "templates").rglob("*.html"))
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
SCRIPT_BODY = re.compile(r"<script\b[^>]*>(?!\s*</script>)\s*\S", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE | re.DOTALL)
JS_URL = re.compile(r"javascript:", re.IGNORECASE)
EXTERNAL_ASSET = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed)\b[^>]*\b(?:src|href)\s*=\s*"
    r"[\"'](?:https?:)?//",
    re.IGNORECASE,
)


def test_there_are_templates_to_check():
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "error.html", "consent.html"} <= names


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_templates_have_no_inline_script_style_or_handlers(path):
    # Jinja comments may quote markup; they never reach the browser.
    source = re.sub(r"{#.*?#}", "", path.read_text(), flags=re.DOTALL)
    assert not INLINE_SCRIPT.search(source), "inline <script> without src"
    assert not SCRIPT_BODY.search(source), "<script> with a body"
    assert not STYLE_ELEMENT.search(source), "<style> element"
    assert not STYLE_ATTRIBUTE.search(source), "style= attribute"
    assert not EVENT_HANDLER.search(source), "on*= event handler attribute"
    assert not JS_URL.search(source), "javascript: URL"
    assert not EXTERNAL_ASSET.search(source), "asset loaded from another site"


def test_the_scanner_catches_what_it_looks_for():
    bad = [
        "<script>alert(1)</script>", '<div style="color:red">', "<style>p{}</style>",
        '<a href="#" onclick="go()">', '<button\n  onfocus="x()">', '<a href="javascript:x()">',
        '<script src="https://cdn.example.com/x.js"></script>',
        '<link rel="stylesheet" href="//fonts.example.com/a.css">',
    ]
    checks = [INLINE_SCRIPT, SCRIPT_BODY, STYLE_ELEMENT, STYLE_ATTRIBUTE, EVENT_HANDLER, JS_URL,
              EXTERNAL_ASSET]
    for sample in bad:
        assert any(check.search(sample) for check in checks), sample
    good = '<script src="/static/app.js" defer></script><p class="note">Go on</p>'
    assert not any(check.search(good) for check in checks)
