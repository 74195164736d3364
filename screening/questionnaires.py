"""The questionnaires this clinic's intake asks, in order, from the settings.

``INTAKE_INSTRUMENTS`` names them by key (``screening.core.instruments.INSTRUMENTS``); the
intake's steps, the review pages, the dashboard, the CSV and FHIR exports all take them from
here, so that adding one to the intake is a setting, once it is defined.

It may import ``screening.core``.
"""

from __future__ import annotations

from flask import Flask, current_app

from .core.instruments import Instrument, by_key

EXTENSION_KEY = "screening.intake_instruments"


def init_app(app: Flask) -> None:
    """Look the configured instruments up once; an unknown key stops the app at start."""
    app.extensions[EXTENSION_KEY] = tuple(by_key(key) for key in app.config["INTAKE_INSTRUMENTS"])


def intake_instruments(app: Flask | None = None) -> tuple[Instrument, ...]:
    """The instruments the intake asks, in the order it asks them."""
    found: tuple[Instrument, ...] = (app or current_app).extensions[EXTENSION_KEY]
    return found
