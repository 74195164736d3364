"""Versioned static URLs: ``/static/app.css?v=<hash>``, cached for a year when the hash is right.

``url_for('static', filename='app.css')`` adds ``v``, the first 12 hex digits of the SHA-256
of the file's content, so every page links the version it was rendered with. A request whose
``v`` is the hash of the very bytes it is sent gets ``Cache-Control: public, max-age=31536000,
immutable``: the browser never asks again, and a new version of the file has a new URL. Any
other request (no ``v``, an old or unknown one) gets the current file with ``no-cache``, as
plain names always did: so a page from a server still on the previous version (a rolling
upgrade, several servers behind one proxy) never makes a browser or nginx keep the wrong bytes
for a year, and the old names keep working.

Why a query string rather than a hashed file name (``app.3f2a9c1b7d4e.css``): the file keeps
its name, so nothing has to be copied, renamed or built, and Flask, WhiteNoise and nginx all
find it as before. nginx caches by the whole URL and honours the app's Cache-Control, so it
keeps the versioned files and asks the app again for anything ``no-cache``
(``deploy/nginx/screening-https.conf``).

In debug mode files change without a restart, so no ``v`` is added.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import parse_qs

from flask import Flask, Response, request
from werkzeug.security import safe_join

VERSION_ARG = "v"
HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def file_version(path: str | os.PathLike[str]) -> str:
    """The version of one file: the first 12 hex digits of the SHA-256 of its content."""
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()[:HASH_LENGTH]


def file_versions(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` by its path relative to it (``/``-separated) → its version."""
    return {
        path.relative_to(folder).as_posix(): file_version(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def cache_control(served_version: str | None, query_string: str) -> str:
    """Immutable only when the request names the version of the bytes being sent."""
    asked = parse_qs(query_string).get(VERSION_ARG)
    if served_version is not None and asked == [served_version]:
        return IMMUTABLE
    return REVALIDATE


def init_app(app: Flask) -> None:
    """Version the URLs ``url_for('static', …)`` makes; set the cache header when Flask itself
    serves a static file (debug mode, or when WhiteNoise could not be set up)."""
    if app.debug or app.static_folder is None:
        return
    static_folder = app.static_folder
    versions = file_versions(Path(static_folder))

    def add_version(endpoint: str, values: dict[str, object]) -> None:
        if endpoint == "static" and VERSION_ARG not in values:
            version = versions.get(str(values.get("filename", "")))
            if version is not None:
                values[VERSION_ARG] = version

    def cache_header(response: Response) -> Response:
        # WhiteNoise answers before Flask sees the request; this is Flask's own static route.
        if request.endpoint == "static" and response.status_code in (200, 304):
            served = None
            if VERSION_ARG in request.args:
                path = safe_join(static_folder, (request.view_args or {}).get("filename", ""))
                served = file_version(path) if path and os.path.isfile(path) else None
            response.headers["Cache-Control"] = cache_control(
                served, request.query_string.decode("latin-1"))
        return response

    app.url_defaults(add_version)
    app.after_request(cache_header)
