"""Translation look-ups that stay cheap on pages with hundreds of labels.

Flask-Babel loads the catalogues (``language`` chooses which); this module remembers, for the
rest of the request, which translations it chose. Flask-Babel's own ``gettext`` finds them
afresh for every string (half a dozen context look-ups each), and Jinja's i18n extension wraps
each ``_()`` in two more dynamic calls: together most of the CPU of an intake page
(``bench/PROFILING.md``).

``_l`` (``lazy_gettext``) is for text defined at import time (form labels, messages);
``gettext``/``ngettext`` for text built during a request. Templates get the same look-ups as
``_``, ``gettext`` and ``ngettext``, with Jinja's "newstyle" behaviour: the result is markup
in autoescaped templates, and ``%(name)s`` values are escaped into it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from babel.support import NullTranslations
from flask import Flask, g, has_app_context
from flask_babel import force_locale, get_translations
from flask_babel.speaklater import LazyString
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

_NULL = NullTranslations()
#: Set for the length of each request (see ``init_app``); None outside requests.
_current: ContextVar[NullTranslations | None] = ContextVar("translations", default=None)


def translations() -> NullTranslations:
    """This request's translations (Flask-Babel's choice, looked up once per request)."""
    found = _current.get()
    if found is not None:
        return found
    return get_translations() if has_app_context() else _NULL


def gettext(message: str, **variables: Any) -> str:
    text = translations().ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def lazy_gettext(message: str, **variables: Any) -> LazyString:
    """``message``, translated each time it is shown (in the locale of that request)."""
    return LazyString(gettext, message, **variables)



@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, message: str, **variables: Any) -> str:
    text = translations().ugettext(message)
    if eval_ctx.autoescape:
        # Our own (translated) template text, trusted as Jinja's i18n extension trusts it;
        # the %(name)s values are escaped by Markup's % below.
        text = Markup(text)  # nosec B704
    # As Jinja's newstyle gettext: "%%" is a literal "%" even without values.
    return text % variables if variables or "%" in text else text


@pass_eval_context
def _template_ngettext(
    eval_ctx: EvalContext, singular: str, plural: str, num: int, **variables: Any
) -> str:
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    return (Markup(text) if eval_ctx.autoescape else text) % variables  # nosec B704


@contextmanager
def in_language(language: str) -> Iterator[None]:
    """Translate in ``language`` inside the block, e.g. an email to a patient written while
    serving someone else (or from a command, with only an app context)::

        with in_language(draft_language):
            body = render_template("emails/resume.txt", link=link)
    """
    with force_locale(language):
        token = _current.set(get_translations())
        try:
            yield
        finally:
            _current.reset(token)


def init_app(app: Flask) -> None:
    """Remember each request's translations; give templates the fast look-ups.

    Call after ``babel.init_app``, whose template functions these replace.
    """

    @app.before_request
    def remember_translations() -> None:
        g._translations_token = _current.set(get_translations())

    @app.teardown_request
    def forget_translations(_error: BaseException | None) -> None:
        token = g.pop("_translations_token", None)
        if token is not None:
            _current.reset(token)

    app.jinja_env.globals.update(
        _=_template_gettext, gettext=_template_gettext, ngettext=_template_ngettext
    )
