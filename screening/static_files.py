"""/static/ served by WhiteNoise: gzip or Brotli when the browser accepts it, plain otherwise.

Only static files are ever compressed, never the HTML pages. A page carries the CSRF token
beside text the visitor sent; compressed over HTTPS, its size would let an attacker who can
make the browser send guesses read the token back (BREACH). Static files hold no secrets.

The compressed copies are made at start-up (WhiteNoise's own compressor), so a fresh clone
needs no build step and no generated file is committed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from .security import security_headers

#: Under the instance folder: one folder of compressed copies per version of the files.
BUILDS_FOLDER = "static-compressed"
# The file names are not versioned (templates link plain /static/app.css), so a browser must
# ask again each time (a cheap 304 by ETag), or it could keep an old stylesheet after an update.
CACHE_CONTROL = "no-cache"


class StaticFiles(WhiteNoise):
    """WhiteNoise, with the app's security headers on every response it sends."""

    def serve(  # type: ignore[override]
        self, static_file: Any, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # Decided per request: HSTS only over HTTPS (ProxyFix, outside, sets the scheme).
        added = list(security_headers(environ.get("wsgi.url_scheme") == "https").items())

        def start_with_headers(status: str, headers: list[tuple[str, str]],
                               exc_info: Any = None) -> Any:
            return start_response(status, headers + added, exc_info)

        return super().serve(static_file, environ, start_with_headers)


def init_app(app: Flask) -> None:
    """Serve /static/ through WhiteNoise; call before any proxy middleware wraps the app."""
    if app.debug or app.static_folder is None:
        return  # Flask serves the files itself, so an edited file shows without a restart
    root = compressed_copy(Path(app.static_folder), Path(app.instance_path) / BUILDS_FOLDER)
    app.wsgi_app = StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix=app.static_url_path,
        max_age=None,
        allow_all_origins=False,
        add_headers_function=_cache_headers,
    )


def _cache_headers(headers: Any, _path: str, _url: str) -> None:
    headers["Cache-Control"] = CACHE_CONTROL


def compressed_copy(source: Path, builds: Path) -> Path:
    """A folder with ``source``'s files and their ``.gz``/``.br``, made once per content.

    Named by a hash of the files, so all workers and restarts of one version share a folder
    and an edited file gets a new one. Made under a temporary name and renamed into place:
    a worker starting at the same moment finds no folder or a complete one, never half.
    """
    files = sorted(path for path in source.rglob("*") if path.is_file())
    target = builds / _content_hash(source, files)
    if target.is_dir():
        return target
    builds.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".building-", dir=builds))
    try:
        compressor = Compressor(quiet=True)
        for path in files:
            copy = scratch / path.relative_to(source)
            copy.parent.mkdir(parents=True, exist_ok=True)
            # copy2 keeps the modification time, from which WhiteNoise derives the ETag and
            # Last-Modified: the same in every worker, whichever built the folder.
            shutil.copy2(path, copy)
            if compressor.should_compress(copy.name):
                compressor.compress(str(copy))
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():  # not another worker's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _content_hash(source: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
