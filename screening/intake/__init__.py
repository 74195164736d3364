"""The patient's intake: consent, about you, the questionnaires, treatments, health, review;
drafts kept step by step, and the final submission with its scores and flags.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.questionnaires``, ``screening.web``, ``screening.audit``
and ``screening.alerts``; never the clinician workspace or staff accounts
(``tests/test_layers.py``).
"""

from __future__ import annotations

from flask import Flask

from . import cli, steps
from .forms import DATE_ORDERS
from .views import bp


def init_app(app: Flask) -> None:
    """Register the intake's pages and the ``flask drafts`` commands."""
    if app.config["DATE_ORDER"] not in DATE_ORDERS:
        raise RuntimeError(
            f"SCREENING_DATE_ORDER={app.config['DATE_ORDER']!r}: use one of"
            f" {', '.join(DATE_ORDERS)} (month first, or day first)."
        )
    steps.init_app(app)
    app.register_blueprint(bp)
    cli.init_app(app)
