"""The questionnaires this clinic's intake asks, in order, from the settings; and each
questionnaire's FHIR ``Questionnaire`` definition, served publicly at
``/fhir/Questionnaire/<key>`` (the canonical URL every exported response names).

``INTAKE_INSTRUMENTS`` names them by key (``screening.core.instruments.INSTRUMENTS``); the
intake's steps, the review pages, the dashboard, the CSV and FHIR exports all take them from
here, so that adding one to the intake is a setting, once it is defined.

It may import ``screening.core``.
"""

from __future__ import annotations

import json

from flask import Blueprint, Flask, Response, abort, current_app

from .core import fhir
from .core.instruments import INSTRUMENTS, Instrument, by_key

EXTENSION_KEY = "screening.intake_instruments"

bp = Blueprint("questionnaires", __name__, url_prefix="/fhir")


@bp.get("/Questionnaire/<key>")
def fhir_questionnaire(key: str) -> Response:
    """An instrument's FHIR R4 Questionnaire: its wording and codes, no patient data."""
    instrument = INSTRUMENTS.get(key) or abort(404)
    document = fhir.questionnaire(instrument, current_app.config["PUBLIC_BASE_URL"])
    return current_app.response_class(
        json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/fhir+json"
    )


def init_app(app: Flask) -> None:
    """Look the configured instruments up once (an unknown key stops the app at start), and
    serve their definitions."""
    app.extensions[EXTENSION_KEY] = tuple(by_key(key) for key in app.config["INTAKE_INSTRUMENTS"])
    app.register_blueprint(bp)


def intake_instruments(app: Flask | None = None) -> tuple[Instrument, ...]:
    """The instruments the intake asks, in the order it asks them."""
    found: tuple[Instrument, ...] = (app or current_app).extensions[EXTENSION_KEY]
    return found
