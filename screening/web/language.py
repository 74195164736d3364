"""The patient's language: chosen, remembered, and offered on every patient page.

Patient pages are in the language the patient chose (a ``?lang=`` link, remembered in the
session; the intake also keeps it in the draft), else the best match of the browser's
``Accept-Language``, else ``BABEL_DEFAULT_LOCALE``. Staff pages are always English: the rooms
that serve them register their URL prefix with :func:`keep_in_english`. Flask-Babel asks
:func:`select_locale` once a request; ``i18n`` does the look-ups.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, current_app, has_request_context, request
from flask import session as flask_session
from flask_babel import get_locale

from ..core.text import N_
from .i18n import gettext

log = logging.getLogger(__name__)

#: The languages a patient may choose, each named in itself (for the language link).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español"}
#: The start page's invitation to answer in each language, written in that language. English
#: is offered by its name alone: a Spanish page holds no English sentence.
OFFERS: dict[str, str] = {"en": "English", "es": "Responder en español"}
#: ``CLINIC_NAME``'s default: a placeholder, not a name, so patients read it in their language.
PLACEHOLDER_CLINIC_NAME = N_("Our clinic")
#: The query-string argument (a link) and form field (a step's form) choosing a language.
CHOICE = "lang"
#: Where the session remembers the choice.
SESSION_KEY = "lang"
STAFF_PREFIXES_KEY = "screening.english_only_prefixes"


def chosen(value: Any) -> str | None:
    """``value`` when it names a language patients may choose, else None."""
    return value if isinstance(value, str) and value in LANGUAGES else None


def keep_in_english(app: Flask, blueprint: Blueprint) -> None:
    """Show every page under ``blueprint``'s URL prefix in English (staff pages), error
    pages included, whatever the browser asks for."""
    if not blueprint.url_prefix:
        raise ValueError(f"{blueprint.name}: only a blueprint with a URL prefix can be kept")
    app.extensions.setdefault(STAFF_PREFIXES_KEY, set()).add(blueprint.url_prefix.rstrip("/"))


def is_staff_page() -> bool:
    prefixes = current_app.extensions.get(STAFF_PREFIXES_KEY, ())
    path = request.path
    return any(path == prefix or path.startswith(prefix + "/") for prefix in prefixes)


def select_locale() -> str:
    """The language of this request (Flask-Babel's locale selector; asked once a request)."""
    default: str = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context() or is_staff_page():
        return default
    found = chosen(request.args.get(CHOICE)) or chosen(flask_session.get(SESSION_KEY))
    return found or request.accept_languages.best_match(LANGUAGES) or default


def current_language() -> str:
    """This request's language code, e.g. ``es`` (for ``<html lang>`` and what is stored)."""
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


def clinic_name() -> str:
    """The clinic's name for patient pages (translated while it is still the placeholder)."""
    name: str = current_app.config["CLINIC_NAME"]
    return gettext(name) if name == PLACEHOLDER_CLINIC_NAME else name


def remember_choice(language: str) -> None:
    """Keep ``language`` as this browser's choice for the pages that follow."""
    flask_session[SESSION_KEY] = language


@dataclass(frozen=True)
class LanguageLink:
    """A link to this page in another language."""

    code: str
    name: str  # in itself: "Español"
    offer: str  # the start page's invitation, in itself
    url: str


def language_links() -> list[LanguageLink]:
    """A link to this page (its query kept) in each other language.

    Only a query (``?lang=es``), relative to the page: a path taken from the request could be
    made to point at another site (``//example.org``) on a crafted 404 page.
    """
    if is_staff_page():
        return []  # an error page under /clinician/ uses the patient layout, but stays English
    here = current_language()
    args: Mapping[str, str] = request.args
    return [
        LanguageLink(code, name, OFFERS[code], "?" + urlencode({**args, CHOICE: code}))
        for code, name in LANGUAGES.items()
        if code != here
    ]


def check_catalogues(app: Flask) -> None:
    """Say in the log, at start, when a language's compiled catalogue is missing or older than
    its source: its patients would read English (or old wording)."""
    directories = app.extensions["babel"].translation_directories
    for code in LANGUAGES:
        if code == "en":
            continue  # the text itself
        found = [Path(d) / code / "LC_MESSAGES" for d in directories]
        compiled = next((f / "messages.mo" for f in found if (f / "messages.mo").exists()), None)
        if compiled is None:
            log.error("no compiled catalogue for %r: run `make translations`", code)
        elif compiled.with_suffix(".po").exists() and (
            compiled.with_suffix(".po").stat().st_mtime > compiled.stat().st_mtime
        ):
            log.warning("the catalogue for %r is older than its .po: run `make translations`",
                        code)


def init_app(app: Flask) -> None:
    """Remember a language chosen by a link; give templates the language and its links."""
    check_catalogues(app)

    @app.before_request
    def remember_a_chosen_language() -> None:
        if chosen(request.args.get(CHOICE)) and not is_staff_page():
            remember_choice(request.args[CHOICE])

    app.jinja_env.globals.update(
        current_language=current_language, language_links=language_links,
        clinic_name=clinic_name,
    )
