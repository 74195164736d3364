"""Web plumbing: security headers, static files, error pages, the health check, the client's
address, rate-limit counters, the patient's language (``language``) and translation look-ups
(``i18n``), the clinic's time zone, token hashing, text checks, and the database engine's
set-up, maintenance and backup.

It may import ``screening.core``, ``screening.config``, ``screening.clock``,
``screening.extensions`` and ``screening.models``; never the intake, the clinician workspace,
staff accounts or alerts (``tests/test_layers.py``).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import (
    backup,
    clinic_time,
    database,
    errors,
    headers,
    health,
    i18n,
    language,
    static_files,
    static_versions,
)


def init_app(app: Flask) -> None:
    """Attach the plumbing to ``app``: engine set-up, static files, proxies, headers, errors."""
    database.init_app(app)
    # Inside the proxy fix, so that static responses too know whether the request was HTTPS.
    static_files.init_app(app)
    static_versions.init_app(app)  # /static/app.css?v=<hash> in pages
    if app.config["TRUSTED_PROXIES"]:
        n = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    i18n.init_app(app)
    language.init_app(app)
    clinic_time.init_app(app)
    headers.init_app(app)
    errors.init_app(app)
    health.init_app(app)
    backup.init_app(app)
