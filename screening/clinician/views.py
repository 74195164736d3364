"""Clinician views (being built: see issue 3)."""

from flask import Blueprint

bp = Blueprint("clinician", __name__, url_prefix="/clinician")
