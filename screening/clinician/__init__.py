"""The clinicians' workspace under /clinician/: the dashboard, a submission's review page and
its actions, exports, and erasure.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.questionnaires``, ``screening.web``, ``screening.audit``,
``screening.alerts`` and ``screening.staff`` (the gate and the admin marker); never the intake
(``tests/test_layers.py``).
"""

from __future__ import annotations

from flask import Flask

from ..web import language
from . import listing
from .views import bp


def init_app(app: Flask) -> None:
    """Register the workspace's pages (in English, whatever the browser asks for)."""
    listing.init_app(app)
    app.register_blueprint(bp)
    language.keep_in_english(app, bp)
