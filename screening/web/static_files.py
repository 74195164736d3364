"""/static/ served by WhiteNoise: gzip or Brotli when the browser accepts it, plain otherwise.

Only static files are ever compressed, never the HTML pages. A page carries the CSRF token
beside text the visitor sent; compressed over HTTPS, its size would let an attacker who can
make the browser send guesses read the token back (BREACH). Static files hold no secrets.

The compressed copies are made by the first request each process serves (WhiteNoise's own
compressor), so a fresh clone needs no build step, no generated file is committed, and CLI
commands (``flask db upgrade``, cron jobs, often run as another user) never make them.
Compression is an optimisation only: if the copies can't be made or read (permissions,
read-only or full disk), one warning is logged and Flask serves the plain files itself.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor
from whitenoise.string_utils import decode_path_info

from . import static_versions
from .headers import security_headers

log = logging.getLogger(__name__)

#: Under the instance folder: one folder of compressed copies per version of the files.
#: ``STATIC_COMPRESSED_FOLDER`` in the config puts them elsewhere (say, if the instance
#: folder is read-only).
BUILDS_FOLDER = "static-compressed"
# A plain name (/static/app.css) must be asked for again each time (a cheap 304 by ETag), or a
# browser could keep an old stylesheet after an update; pages link versioned URLs
# (/static/app.css?v=<hash>, static_versions.py), which are cached for a year.
CACHE_CONTROL = static_versions.REVALIDATE
# mkdtemp makes its folder 0700: left so, a folder built by root (a `sudo flask ...`, a cron
# job) would be unreadable to the service's user. The files are public, so readable by all.
FOLDER_MODE = 0o755
FILE_MODE = 0o644
# A build takes well under a second; a scratch folder this old was left by a killed process.
STALE_SCRATCH_SECONDS = 10 * 60
SCRATCH_PREFIX = ".building-"


class StaticFiles(WhiteNoise):
    """WhiteNoise, with the app's security headers on every response it sends, and a year's
    caching for a URL whose ``?v=`` is the version of the file sent (``static_versions``)."""

    def __init__(self, *args: Any, versions: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.versions = versions  # URL path -> version of the file served for it

    def serve(  # type: ignore[override]
        self, static_file: Any, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        # Decided per request: HSTS only over HTTPS (ProxyFix, outside, sets the scheme).
        added = list(security_headers(environ.get("wsgi.url_scheme") == "https").items())
        added.append(("Cache-Control", static_versions.cache_control(
            self.versions.get(decode_path_info(environ.get("PATH_INFO", ""))),
            environ.get("QUERY_STRING", ""),
        )))

        def start_with_headers(status: str, headers: list[tuple[str, str]],
                               exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() != "cache-control"]
            return start_response(status, kept + added, exc_info)

        return super().serve(static_file, environ, start_with_headers)


class CompressedStatic:
    """WSGI middleware that sets up WhiteNoise on the first request, or steps aside.

    Lazy, so that only a process that serves requests writes the copies; a lock, so that
    the threads of one worker set it up once.
    """

    def __init__(self, app: Callable[..., Any], source: Path, builds: Path, prefix: str) -> None:
        self.app = app
        self.source = source
        self.builds = builds
        self.prefix = prefix
        self._handler: Callable[..., Any] | None = None
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self._handler is None:
            with self._lock:
                if self._handler is None:
                    self._handler = self._whitenoise_or_plain()
        return self._handler(environ, start_response)

    def _whitenoise_or_plain(self) -> Callable[..., Any]:
        try:
            root = compressed_copy(self.source, self.builds)
            _check_readable(root)
            served = StaticFiles(
                self.app,
                root=str(root),
                prefix=self.prefix,
                max_age=None,
                allow_all_origins=False,
                add_headers_function=_cache_headers,
                # The versions of the copies served, not of static/ when the app started.
                versions={f"{self.prefix.rstrip('/')}/{name}": version
                          for name, version in static_versions.file_versions(root).items()},
            )
        except OSError as error:
            log.warning(
                "Static files will be served uncompressed: the compressed copies could not be"
                " made or read (%s). Check that the service's user can write %s, or delete it"
                " to have it rebuilt.", error, self.builds,
            )
            return self.app  # Flask's own /static/ route serves the plain files
        return served


def init_app(app: Flask) -> None:
    """Serve /static/ through WhiteNoise; call before any proxy middleware wraps the app."""
    if app.debug or app.static_folder is None:
        return  # Flask serves the files itself, so an edited file shows without a restart
    builds = app.config.get("STATIC_COMPRESSED_FOLDER") or Path(app.instance_path) / BUILDS_FOLDER
    app.wsgi_app = CompressedStatic(  # type: ignore[method-assign]
        app.wsgi_app, Path(app.static_folder), Path(builds), app.static_url_path or "/static"
    )


def _cache_headers(headers: Any, _path: str, _url: str) -> None:
    headers["Cache-Control"] = CACHE_CONTROL


def _check_readable(root: Path) -> None:
    """Open every file, so that one this process can't read fails now, not on each request."""

    def fail(error: OSError) -> None:
        raise error

    for folder, _folders, names in os.walk(root, onerror=fail):
        for name in names:
            with open(os.path.join(folder, name), "rb"):
                pass


def compressed_copy(source: Path, builds: Path) -> Path:
    """A folder with ``source``'s files and their ``.gz``/``.br``, made once per content.

    Named by a hash of the files, so all workers and restarts of one version share a folder
    and an edited file gets a new one. Made under a temporary name and renamed into place:
    a worker starting at the same moment finds no folder or a complete one, never half.
    """
    files = sorted(path for path in source.rglob("*") if path.is_file())
    target = builds / _content_hash(source, files)
    _remove_stale_scratch(builds)
    if target.is_dir():
        return target
    builds.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=builds))
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
        _make_readable(scratch)
        try:
            os.rename(scratch, target)
        except OSError:
            if not target.is_dir():  # not another worker's finished copy: a real failure
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def _make_readable(folder: Path) -> None:
    folder.chmod(FOLDER_MODE)
    for path in folder.rglob("*"):
        path.chmod(FOLDER_MODE if path.is_dir() else FILE_MODE)


def _remove_stale_scratch(builds: Path) -> None:
    """Delete half-made folders left by killed processes; old versions' folders stay.

    Those are kept: a few kilobytes each, and a worker of the previous version, still
    finishing its requests during a graceful restart, may be serving from one.
    """
    cutoff = time.time() - STALE_SCRATCH_SECONDS
    try:
        leftovers = [path for path in builds.glob(SCRATCH_PREFIX + "*")
                     if path.stat().st_mtime < cutoff]
    except OSError:
        return  # no folder yet, or unreadable: the build that follows reports it
    for path in leftovers:
        shutil.rmtree(path, ignore_errors=True)  # another user's: not ours to remove


def _content_hash(source: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(str(path.relative_to(source)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:16]
