"""Versioned static URLs: pages link /static/NAME?v=<hash>; that URL is cached for a year
(immutable) only when the hash is that of the bytes sent; any other URL of the file gets the
current bytes with no-cache, as the plain names always did."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import pytest
from flask import Flask, url_for

from screening import PROJECT_ROOT
from screening.web import static_files, static_versions

from .test_headers import assert_secure_headers

STATIC = PROJECT_ROOT / "static"
STATIC_FILES = sorted(p.name for p in STATIC.iterdir() if p.is_file())
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC_LINK = re.compile(r'(?:href|src)="(/static/[^"]*)"')


def version_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()[:12]


def versioned(name: str) -> str:
    return f"/static/{name}?v={version_of((STATIC / name).read_bytes())}"


def fetch(client, url: str, **headers: str):
    return client.get(url, headers=headers, buffered=True)


@pytest.mark.parametrize("page", ["/", "/intake/consent", "/clinician/login", "/no/such/page"])
def test_pages_link_every_static_file_at_the_version_of_its_content(client, page):
    html = client.get(page).get_data(as_text=True)
    links = STATIC_LINK.findall(html)
    assert {"/static/app.css", "/static/app.js"} <= {link.split("?")[0] for link in links}
    for link in links:
        assert link == versioned(link.split("?")[0].removeprefix("/static/")), link


def test_templates_link_static_files_only_through_url_for():
    # A literal /static/... in a template would escape versioning and be revalidated forever.
    for path in sorted((PROJECT_ROOT / "templates").rglob("*.html")):
        assert "/static/" not in path.read_text(), path


@pytest.mark.parametrize("name", STATIC_FILES)
def test_a_versioned_url_is_cached_for_a_year_and_never_asked_for_again(client, name):
    plain = fetch(client, versioned(name))
    assert plain.status_code == 200
    assert plain.get_data() == (STATIC / name).read_bytes()
    assert plain.headers["Cache-Control"] == IMMUTABLE
    assert_secure_headers(plain)

    compressed = fetch(client, versioned(name), **{"Accept-Encoding": "gzip"})
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.get_data()) == (STATIC / name).read_bytes()
    assert compressed.headers["Cache-Control"] == IMMUTABLE

    again = fetch(client, versioned(name), **{"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == IMMUTABLE


def test_a_versioned_url_over_https_carries_hsts_too(client):
    secure = client.get(versioned("app.css"), base_url="https://localhost", buffered=True)
    assert secure.headers["Cache-Control"] == IMMUTABLE
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("query", [
    "",                                    # the plain name, as before
    "?v=000000000000",                     # an unknown version
    "?v=",                                 # an empty one
    "?v={css}&v={css}",                    # the right one, and something else
    "?v={js}",                             # another file's version
    "?version={css}",                      # not the version argument
])
def test_any_other_url_of_a_file_gets_the_current_file_revalidated(client, query):
    css = versioned("app.css").split("=")[1]
    js = versioned("app.js").split("=")[1]
    response = fetch(client, "/static/app.css" + query.format(css=css, js=js))
    assert response.status_code == 200
    assert response.get_data() == (STATIC / "app.css").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"
    assert_secure_headers(response)


def test_a_missing_file_gets_no_version_and_stays_a_404(app, client):
    with app.test_request_context():
        assert url_for("static", filename="no-such-file.css") == "/static/no-such-file.css"
    assert fetch(client, "/static/no-such-file.css?v=000000000000").status_code == 404


def test_debug_mode_links_plain_names(make_app):
    # Files change without a restart there: a version fixed at start would soon be wrong.
    app = make_app(DEBUG=True)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "/static/app.css" in STATIC_LINK.findall(html)


# --- the version is that of the bytes sent, whoever sends them --------------------------------


def small_app(tmp_path: Path, whitenoise: bool) -> tuple[Flask, Path]:
    """A bare app with one stylesheet, served by WhiteNoise or by Flask's own static route."""
    static = tmp_path / "static"
    static.mkdir()
    (static / "a.css").write_text("p { color: #111; }\n" * 40)
    app = Flask(__name__, static_folder=str(static), instance_path=str(tmp_path / "instance"))
    app.config["STATIC_COMPRESSED_FOLDER"] = str(tmp_path / "builds")
    if whitenoise:
        static_files.init_app(app)
    static_versions.init_app(app)
    app.add_url_rule("/link", "link", lambda: url_for("static", filename="a.css"))
    return app, static


@pytest.mark.parametrize("whitenoise", [True, False], ids=["whitenoise", "flask"])
def test_a_file_changed_after_start_is_never_marked_immutable_under_its_old_version(
    tmp_path, whitenoise
):
    app, static = small_app(tmp_path, whitenoise)
    client = app.test_client()
    with app.test_request_context():  # rendered, but nothing served yet
        old_link = url_for("static", filename="a.css")
    assert old_link == f"/static/a.css?v={version_of((static / 'a.css').read_bytes())}"

    # An upgrade replaces the file under a server that has rendered a page but not yet served
    # a static file (WhiteNoise copies the files at its first request).
    new = b"p { color: #222; }\n" * 40
    (static / "a.css").write_bytes(new)
    stale = fetch(client, old_link)
    assert stale.status_code == 200
    assert stale.get_data() == new
    assert stale.headers["Cache-Control"] == "no-cache"

    current = fetch(client, f"/static/a.css?v={version_of(new)}")
    assert current.get_data() == new
    assert current.headers["Cache-Control"] == IMMUTABLE


def test_flask_fallback_marks_the_right_version_immutable_and_plain_names_no_cache(tmp_path):
    app, static = small_app(tmp_path, whitenoise=False)
    client = app.test_client()
    link = client.get("/link").get_data(as_text=True)
    assert fetch(client, link).headers["Cache-Control"] == IMMUTABLE
    assert fetch(client, "/static/a.css").headers["Cache-Control"] == "no-cache"
