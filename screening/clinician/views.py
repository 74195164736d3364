"""Clinician views (being built: see issue 3)."""

from flask import Blueprint

bp = Blueprint("clinician", __name__, url_prefix="/clinician")

from ..extensions import login_manager


@login_manager.user_loader
def load_user(_session_token: str):  # replaced by the session-backed loader of issue 3
    return None
