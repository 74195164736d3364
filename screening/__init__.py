"""Intake screening for ketamine-assisted therapy clinics: the application factory."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from . import clinician, demo, intake, questionnaires, staff, web
from .extensions import babel, csrf, db, login_manager, migrate
from .web import clinic_time, language

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The compiled catalogues (``make translations``; their sources are the .po files there).
TRANSLATIONS = PROJECT_ROOT / "translations"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``instance/config.py``, then environment, then tests."""
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_object("screening.config")
    app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
        app.instance_path, "screening.db"
    )
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("SCREENING")
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config is not None:
        app.config.from_mapping(test_config)
    app.config["SQLALCHEMY_DATABASE_URI"] = _with_driver(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS))
    _load_secret_key(app)
    clinic_time.configure(app)  # before Babel, which takes the zone for patients' dates

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=language.select_locale)
    web.init_app(app)
    questionnaires.init_app(app)
    intake.init_app(app)
    staff.init_app(app)
    clinician.init_app(app)
    demo.init_app(app)
    return app


def _with_driver(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given without a driver (as most hosts print them)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _load_secret_key(app: Flask) -> None:
    """Take the key from config, else ``instance/secret_key``; refuse to run without one."""
    if not app.config.get("SECRET_KEY"):
        key_file = Path(app.instance_path) / "secret_key"
        if key_file.exists():
            app.config["SECRET_KEY"] = key_file.read_text().strip()
    if not app.config.get("SECRET_KEY"):
        if app.debug or app.testing:
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise RuntimeError(
                "No SECRET_KEY configured. Set SCREENING_SECRET_KEY, or put one in"
                " instance/secret_key (`make run` creates it)."
            )
