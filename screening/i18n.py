"""Translation look-ups that stay cheap on pages with hundreds of labels.

Flask-Babel chooses the locale and loads the catalogues; this module only remembers, for the
rest of the request, which translations it chose. Flask-Babel's own ``gettext`` finds them
afresh for every string (half a dozen context look-ups each): on the treatment page, with
~200 labels and options, that was a fifth of the request's CPU (``bench/PROFILING.md``).

``_l`` (``lazy_gettext``) is for text defined at import time (form labels, messages);
``gettext``/``ngettext`` for text built during a request. Templates get the same functions
as ``_``, ``gettext`` and ``ngettext``.
"""

from __future__ import annotations

from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import get_translations
from flask_babel.speaklater import LazyString

_NULL = NullTranslations()


def translations() -> NullTranslations:
    """This request's translations, looked up once (untranslated outside an app context)."""
    if not has_app_context():
        return _NULL
    found: NullTranslations | None = g.get("_translations")
    if found is None:
        found = g._translations = get_translations()
    return found


def gettext(message: str, **variables: Any) -> str:
    text = translations().ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """``message``, translated each time it is shown (in the locale of that request)."""
    return LazyString(gettext, message, **variables)


_l = lazy_gettext


def init_app(app: Flask) -> None:
    """Give templates these look-ups in place of Flask-Babel's (after ``babel.init_app``)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda message: translations().ugettext(message),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, message: translations().upgettext(context, message),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
