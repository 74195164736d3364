"""Staff accounts and their sessions: passwords, signing in and out, the deny-by-default gate,
the audit trail browser, and ``flask users``.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.web`` and ``screening.audit``; never the intake or the
clinician workspace, which build on it (``tests/test_layers.py``).
"""

from __future__ import annotations

from flask import Flask

from ..web import language
from . import cli, sessions
from .views import bp


def init_app(app: Flask) -> None:
    """Register the sign-in pages (in English), the access gate and the ``flask users``
    commands."""
    app.register_blueprint(bp)
    language.keep_in_english(app, bp)
    sessions.init_app(app)
    cli.init_app(app)
