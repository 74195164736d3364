"""The step flow: what showing and answering a step does, whatever the step.

The views only turn an :class:`Outcome` into a response. Nothing here commits: the view that
called does, once, so that a step's answers, a new draft and its rate-limit count are stored
together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from flask import current_app
from flask_wtf import FlaskForm

from ..models import Draft
from ..web import throttle
from . import drafts
from .steps import Step, Steps

#: Counts new intakes per client address.
INTAKE_SCOPE = "intake"
#: A field people never see (it is hidden by the stylesheet) and bots fill in.
HONEYPOT = "website"


class TooManyIntakes(Exception):
    """This address has started as many intakes as it may lately."""


@dataclass(frozen=True)
class Outcome:
    """Show ``form`` again with ``status``, or go on to ``target``.

    ``target`` is a step key, ``"review"``, ``"saved"`` (the "finish later" page) or
    ``"start"``. ``draft_token`` is set when a draft was opened: the browser keeps it.
    """

    form: FlaskForm | None = None
    status: int = 200
    target: str | None = None
    draft_token: str | None = None


def redirect_before(steps: Steps, step: Step, draft: Draft | None) -> str | None:
    """Where to send a patient who asks for ``step`` too early, or None when it may be shown:
    the start without a draft, or the first step still unanswered."""
    if draft is None and not step.opens_draft:
        return "start"
    first = steps.first_incomplete(draft.data if draft else {})
    if first and steps.number(step.key) > steps.number(first):
        return first
    return None


def form_to_show(step: Step, draft: Draft | None, today: dt.date) -> FlaskForm:
    """The step's form with its saved answers, or with what was typed when it was left
    unfinished by "Save and finish later"."""
    data = draft.data if draft else {}
    return step.form(data.get(step.key), today, formdata=drafts.partial_input(draft, step.key))


def answer(
    steps: Steps,
    step: Step,
    draft: Draft | None,
    formdata: Mapping[str, str],
    *,
    save_later: bool,
    back_to_review: bool,
    address: str,
    now: dt.datetime,
    today: dt.date,
    language: str,
) -> Outcome:
    """Check and keep the answers to ``step``; say where the patient goes next.

    Invalid answers come back with a 422, except that "Save and finish later" keeps what was
    typed (unvalidated, shown back only) once the date of birth is known. A bot's honeypot
    answer is dropped without a trace. Raises :class:`TooManyIntakes` when a new draft would
    exceed the address's limit.
    """
    data = draft.data if draft else {}
    form = step.form(data.get(step.key), today)
    can_save_later = draft is not None and steps.date_of_birth(draft.data) is not None
    if not form.validate():
        if save_later and can_save_later:
            assert draft is not None
            drafts.save_partial(draft, step.key, form._fields, formdata, now, language)
            return Outcome(target="saved")
        return Outcome(form=form, status=422)
    if step.opens_draft and formdata.get(HONEYPOT):
        return Outcome(target="start")

    token = None
    if draft is None:
        draft, token = open_draft(address, now)
    drafts.save_step(draft, step.key, step.values_to_keep(form, now), now, language)

    if save_later and steps.date_of_birth(draft.data) is not None:
        return Outcome(target="saved", draft_token=token)
    following = steps.following(step.key)
    if back_to_review or following is None:
        following = steps.first_incomplete(draft.data) or "review"
    return Outcome(target=following, draft_token=token)


def keep_typed(
    step: Step, draft: Draft | None, formdata: Mapping[str, str], now: dt.datetime,
    today: dt.date, language: str,
) -> None:
    """The patient changes language on ``step``: keep what they typed there, unchecked, to be
    shown back in the new language (there is nothing to keep before the draft exists)."""
    if draft is not None:
        fields = step.form(draft.data.get(step.key), today)._fields
        drafts.save_partial(draft, step.key, fields, formdata, now, language)


def open_draft(address: str, now: dt.datetime) -> tuple[Draft, str]:
    """A new draft and its token, counted against ``address``'s limit of new intakes."""
    config = current_app.config
    window = config["INTAKE_WINDOW"]
    if throttle.recent_count(INTAKE_SCOPE, address, window, now) >= config[
        "INTAKE_MAX_PER_ADDRESS"
    ]:
        raise TooManyIntakes
    throttle.record(INTAKE_SCOPE, address, now)
    return drafts.create_draft(now)
