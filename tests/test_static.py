"""Static files: compressed when the browser accepts it, plain otherwise, with the usual
headers; HTML pages never compressed (BREACH); the compressed copies made once per content."""

from __future__ import annotations

import errno
import gzip
import http.client
import logging
import os
import stat
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import brotli
import pytest

from screening import PROJECT_ROOT
from screening.web.static_files import compressed_copy

from .gunicorn_helpers import Gunicorn
from .test_headers import assert_secure_headers

STATIC = PROJECT_ROOT / "static"
STATIC_FILES = sorted(p.name for p in STATIC.iterdir() if p.is_file())
BROWSER_ACCEPTS = "gzip, deflate, br, zstd"
DECODERS = {"gzip": gzip.decompress, "br": brotli.decompress}


def fetch(client, url: str, accept: str | None = None, **headers: str):
    """GET ``url``, read whole (buffered: the file WhiteNoise opened is closed at once)."""
    if accept is not None:
        headers["Accept-Encoding"] = accept
    return client.get(url, headers=headers, buffered=True)


def test_there_are_static_files_to_check():
    assert {"app.css", "app.js", "favicon.svg"} <= set(STATIC_FILES)


@pytest.mark.parametrize("name", STATIC_FILES)
@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_static_file_comes_compressed_when_the_browser_accepts_it(client, name, encoding):
    response = fetch(client, f"/static/{name}", encoding)
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == encoding
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    assert DECODERS[encoding](body) == (STATIC / name).read_bytes()
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.headers["ETag"]
    assert_secure_headers(response)
    assert "no-store" not in response.headers["Cache-Control"]


def test_the_smaller_encoding_is_chosen_when_the_browser_accepts_several(client):
    response = fetch(client, "/static/app.css", BROWSER_ACCEPTS)
    assert response.headers["Content-Encoding"] == "br"
    assert len(response.get_data()) < len(gzip.compress((STATIC / "app.css").read_bytes(), 9))


@pytest.mark.parametrize("accept", [None, "identity"])
@pytest.mark.parametrize("name", STATIC_FILES)
def test_a_static_file_comes_plain_to_a_client_that_does_not_accept_compression(
    client, name, accept
):
    response = fetch(client, f"/static/{name}", accept)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    body = response.get_data()
    assert body == (STATIC / name).read_bytes()
    assert int(response.headers["Content-Length"]) == len(body)
    assert "Accept-Encoding" in response.headers["Vary"]  # caches keep the two apart
    assert_secure_headers(response)


def test_static_files_have_the_right_types_and_must_be_revalidated(client):
    types = {"app.css": "text/css", "app.js": "text/javascript", "favicon.svg": "image/svg+xml"}
    for name, media_type in types.items():
        response = fetch(client, f"/static/{name}", "gzip")
        assert response.mimetype == media_type
        # Plain file names: a browser must ask again, or it could keep an old file after an update.
        assert response.headers["Cache-Control"] == "no-cache"
        assert "Access-Control-Allow-Origin" not in response.headers


def test_an_unchanged_static_file_is_answered_not_modified(client):
    first = fetch(client, "/static/app.css", "gzip")
    again = fetch(client, "/static/app.css", "gzip", **{"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert fetch(client, "/static/app.css", **{"If-None-Match": '"other"'}).status_code == 200


def test_static_files_over_https_carry_hsts(client):
    secure = client.get("/static/app.css", base_url="https://localhost", buffered=True)
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Strict-Transport-Security" not in fetch(client, "/static/app.css").headers


def test_a_missing_static_file_is_a_plain_404(client):
    response = fetch(client, "/static/no-such-file.css", "gzip")
    assert response.status_code == 404
    assert "Content-Encoding" not in response.headers


# --- HTML is never compressed ----------------------------------------------------------------


def test_pages_are_never_compressed_even_when_the_browser_accepts_it(client):
    # A page holds the CSRF token beside what the visitor typed: compressed, its size would
    # leak the token (BREACH). Static files have no secrets; pages stay plain.
    accept = {"Accept-Encoding": BROWSER_ACCEPTS}
    for url in ["/", "/crisis", "/intake/consent", "/clinician/login", "/no/such/page"]:
        response = client.get(url, headers=accept)
        assert "Content-Encoding" not in response.headers, url
        assert response.get_data(as_text=True).lstrip().lower().startswith("<!doctype html"), url
    refused = client.post("/intake/consent", data={"consent": "y"}, headers=accept)
    assert refused.status_code == 400
    assert "Content-Encoding" not in refused.headers


# --- the compressed copies --------------------------------------------------------------------


def write_files(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


CSS = "body { margin: 0; padding: 0; color: #222; }\n" * 50


def test_the_copies_are_made_once_and_remade_when_a_file_changes(tmp_path):
    source = write_files(tmp_path / "static", {"a.css": CSS})
    builds = tmp_path / "builds"
    first = compressed_copy(source, builds)
    assert gzip.decompress((first / "a.css.gz").read_bytes()).decode() == CSS
    assert brotli.decompress((first / "a.css.br").read_bytes()).decode() == CSS
    assert compressed_copy(source, builds) == first

    (source / "a.css").write_text(CSS + "p { margin: 1em; }\n")
    second = compressed_copy(source, builds)
    assert second != first
    assert gzip.decompress((second / "a.css.gz").read_bytes()).decode().endswith("1em; }\n")


def test_workers_starting_together_share_one_complete_copy(tmp_path):
    source = write_files(tmp_path / "static", {"a.css": CSS, "b.js": "let x = 1;\n" * 200})
    builds = tmp_path / "builds"
    start = threading.Barrier(6)

    def build() -> Path:
        start.wait()
        return compressed_copy(source, builds)

    with ThreadPoolExecutor(6) as pool:
        folders = set(pool.map(lambda _: build(), range(6)))
    assert len(folders) == 1
    (folder,) = folders
    assert sorted(p.name for p in folder.iterdir()) == [
        "a.css", "a.css.br", "a.css.gz", "b.js", "b.js.br", "b.js.gz"]
    assert [p.name for p in builds.iterdir()] == [folder.name]  # no half-made folder left


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_copies_are_readable_by_every_user_not_only_the_one_that_made_them(tmp_path):
    # A folder left 0700 by a root cron job or `sudo flask ...` would stop the service's user.
    source = write_files(tmp_path / "static", {"a.css": CSS})
    write_files(source / "icons", {"b.svg": "<svg></svg>\n" * 100})
    (source / "a.css").chmod(0o600)
    folder = compressed_copy(source, tmp_path / "builds")
    assert mode(folder) == 0o755
    assert mode(folder / "icons") == 0o755
    for name in ["a.css", "a.css.gz", "a.css.br", "icons/b.svg", "icons/b.svg.gz"]:
        assert mode(folder / name) == 0o644, name


def test_half_made_folders_left_by_a_killed_process_are_removed(tmp_path):
    source = write_files(tmp_path / "static", {"a.css": CSS})
    builds = tmp_path / "builds"
    old_version = compressed_copy(source, builds)
    stale = write_files(builds / ".building-killed", {"a.css": CSS})
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    in_progress = write_files(builds / ".building-now", {"a.css": CSS})

    (source / "a.css").write_text(CSS + "p { margin: 1em; }\n")
    new_version = compressed_copy(source, builds)
    # The previous version's folder stays: a worker finishing a graceful restart may use it.
    assert sorted(p.name for p in builds.iterdir()) == sorted(
        [old_version.name, new_version.name, in_progress.name])


# --- compression can never stop the app from serving ----------------------------------------


@pytest.fixture
def builds(tmp_path) -> Path:
    return tmp_path / "builds"


@pytest.fixture
def app_with_builds(make_app, builds):
    return make_app(STATIC_COMPRESSED_FOLDER=str(builds))


def assert_served_plain(client, caplog) -> None:
    """app.css comes whole and uncompressed, with the usual headers, and one warning said why."""
    with caplog.at_level(logging.WARNING, logger="screening.web.static_files"):
        for _ in range(2):
            response = fetch(client, "/static/app.css", BROWSER_ACCEPTS)
            assert response.status_code == 200
            assert "Content-Encoding" not in response.headers
            assert response.get_data() == (STATIC / "app.css").read_bytes()
            assert response.mimetype == "text/css"
            assert_secure_headers(response)
        assert client.get("/").status_code == 200
    warnings = [r for r in caplog.records if r.name == "screening.web.static_files"]
    assert len(warnings) == 1
    assert "served uncompressed" in warnings[0].getMessage()


def test_an_unreadable_compressed_folder_falls_back_to_plain_files(
    app_with_builds, builds, caplog, monkeypatch
):
    # As a static change followed by `sudo flask db upgrade` used to leave it: a folder of the
    # current version that the service's user may not read.
    folder = compressed_copy(STATIC, builds)
    folder.chmod(0o000)
    try:
        if os.geteuid() == 0:
            # root reads a 0000 folder regardless (the tests run as root here), so listing it
            # is made to fail as it would for the service's user; other folders list as usual.
            scandir = os.scandir

            def refused(path="."):
                if Path(path).resolve().is_relative_to(folder.resolve()):
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
                return scandir(path)

            monkeypatch.setattr(os, "scandir", refused)
        assert_served_plain(app_with_builds.test_client(), caplog)
    finally:
        folder.chmod(0o755)


def test_a_read_only_instance_folder_falls_back_to_plain_files(
    app_with_builds, builds, caplog, monkeypatch
):
    builds.mkdir()
    builds.chmod(0o555)
    try:
        if os.geteuid() == 0:
            # root may write to a 0555 folder, so making the scratch folder fails as a
            # read-only disk makes it fail.
            def read_only(*_args, **_kwargs):
                raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(builds))

            monkeypatch.setattr(tempfile, "mkdtemp", read_only)
        assert_served_plain(app_with_builds.test_client(), caplog)
    finally:
        builds.chmod(0o755)
    assert list(builds.iterdir()) == []


def test_cli_commands_make_no_compressed_copies(app_with_builds, builds):
    # A cron job or `flask db upgrade`, perhaps as root: only a serving process writes them.
    result = app_with_builds.test_cli_runner().invoke(args=["drafts", "purge"])
    assert result.exit_code == 0, result.output
    assert not builds.exists()
    assert fetch(app_with_builds.test_client(), "/static/app.css", "gzip").headers[
        "Content-Encoding"] == "gzip"
    assert len(list(builds.iterdir())) == 1


# --- under gunicorn, as a browser fetches it ---------------------------------------------------


@pytest.mark.slow
def test_gunicorn_sends_the_compressed_file_whole(database_url, tmp_path):
    with Gunicorn(database_url, tmp_path, workers=2) as server:
        for accept, decode in [("gzip", gzip.decompress), ("identity", lambda body: body)]:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            try:
                conn.request("GET", "/static/app.css", headers={"Accept-Encoding": accept})
                response = conn.getresponse()
                body = response.read()
            finally:
                conn.close()
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(body)
            assert decode(body) == (STATIC / "app.css").read_bytes()
            assert response.headers["X-Content-Type-Options"] == "nosniff"
