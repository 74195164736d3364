"""The intake's steps, in order, and what each one does beyond showing its form.

A step's behaviour is its data: the first step opens the draft, the step that asks the date
of birth checks the patient's age, the consent step records when it was given. Nothing
outside this module asks which step it is by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from ..core.instruments import Instrument
from ..questionnaires import intake_instruments
from ..web.i18n import lazy_gettext as _l
from . import forms, summary

EXTENSION_KEY = "screening.intake_steps"


@dataclass(frozen=True)
class Step:
    """One page of the intake."""

    key: str
    title: Any  # a lazy translated string
    form_class: type[FlaskForm]
    template: str
    #: The review page's rows for this step's saved answers.
    review_rows: summary.RowsOf
    #: The questionnaire this step asks, for a questionnaire's step.
    instrument: Instrument | None = None
    #: The first step: answering it opens the draft (limited per address), and its form
    #: carries the honeypot field that bots fill in.
    opens_draft: bool = False
    #: It asks the date of birth: the form checks the age on today's date, and the saved
    #: date is what a "finish later" link asks for.
    asks_date_of_birth: bool = False
    #: The time the step was answered is kept with its answers under this name.
    records_time_as: str | None = None

    def form(
        self, data: Mapping[str, Any] | None, today: dt.date,
        formdata: MultiDict[str, str] | None = None,
    ) -> FlaskForm:
        """The step's form with the saved ``data``, or ``formdata`` (typed) when given."""
        kwargs: dict[str, Any] = {"today": today} if self.asks_date_of_birth else {}
        if formdata is not None:
            kwargs["formdata"] = formdata
        return self.form_class(data=data, **kwargs)

    def values_to_keep(self, form: FlaskForm, now: dt.datetime) -> dict[str, Any]:
        """The answers of a valid form as the draft stores them (JSON, form-shaped)."""
        values = {
            name: field.data for name, field in form._fields.items() if name != "csrf_token"
        }
        if "date_of_birth" in values:
            values["date_of_birth"] = values["date_of_birth"].isoformat()
        if "trials" in values:
            entries = form.trials.entries
            values["trials"] = [
                row for row, entry in zip(values["trials"], entries, strict=True)
                if not entry.form.is_blank()
            ]
        if "consent" in values:
            values["consent"] = True
        if self.records_time_as:
            values[self.records_time_as] = now.isoformat()
        return values


class Steps:
    """The steps in order, with the look-ups the flow needs."""

    def __init__(self, steps: tuple[Step, ...]) -> None:
        self.steps = steps
        self.keys = tuple(step.key for step in steps)
        self.by_key = {step.key: step for step in steps}
        #: The review page counts as the last step in "Step N of M".
        self.total = len(steps) + 1
        self.review_number = self.total

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def get(self, key: str) -> Step | None:
        return self.by_key.get(key)

    def number(self, key: str) -> int:
        return self.keys.index(key) + 1

    def previous(self, key: str) -> str | None:
        """The step before ``key``, for the Back link."""
        index = self.keys.index(key)
        return self.keys[index - 1] if index else None

    def following(self, key: str) -> str | None:
        """The step after ``key``; None after the last."""
        index = self.keys.index(key) + 1
        return self.keys[index] if index < len(self.keys) else None

    def first_incomplete(self, data: Mapping[str, Any]) -> str | None:
        """The first step without saved answers, or None when every step is done."""
        return next((key for key in self.keys if key not in data), None)

    def date_of_birth(self, data: Mapping[str, Any]) -> str | None:
        """The saved date of birth (ISO text), if the step that asks it has been answered."""
        for step in self.steps:
            if step.asks_date_of_birth and step.key in data:
                return data[step.key].get("date_of_birth")  # type: ignore[no-any-return]
        return None

    def review_sections(self, data: Mapping[str, Any]) -> list[tuple[str, str, list[Any]]]:
        """(step key, title, rows) for each step of a complete draft: the review page."""
        return [(step.key, str(step.title), step.review_rows(data[step.key])) for step in self]

    def instruments(self) -> tuple[Instrument, ...]:
        """The questionnaires asked, in order (each one's step has its key)."""
        return tuple(step.instrument for step in self.steps if step.instrument is not None)

    def alert_raised(self, data: Mapping[str, Any]) -> bool:
        """True when a saved answer raises its instrument's alert (PHQ-9 item 9 above 0):
        the pages that follow show the crisis resources."""
        for instrument in self.instruments():
            if instrument.alert and instrument.key in data:
                field = instrument.field(instrument.item(instrument.alert.item_key))
                value = data[instrument.key].get(field)
                if type(value) is int and value >= instrument.alert.minimum:
                    return True
        return False


def build(instruments: tuple[Instrument, ...]) -> Steps:
    """The intake's steps: consent and contact details, each questionnaire, then treatments
    and health."""
    fixed = {"consent", "about", "treatment", "health", "review", "done", "saved"}
    if clash := fixed & {instrument.key for instrument in instruments}:
        raise ValueError(f"an instrument may not be named like a step: {sorted(clash)}")
    return Steps((
        Step("consent", _l("Your consent"), forms.ConsentForm, "intake/consent.html",
             summary.consent_rows, opens_draft=True, records_time_as="consented_at"),
        Step("about", _l("About you"), forms.AboutForm, "intake/about.html",
             summary.about_rows, asks_date_of_birth=True),
        *(
            Step(instrument.key, _l(instrument.step_title),
                 forms.questionnaire_form(instrument), "intake/questionnaire.html",
                 summary.questionnaire_rows(instrument), instrument=instrument)
            for instrument in instruments
        ),
        Step("treatment", _l("Treatments you have tried"), forms.TreatmentForm,
             "intake/treatment.html", summary.treatment_rows),
        Step("health", _l("Your health and safety"), forms.HealthForm, "intake/health.html",
             summary.health_rows),
    ))


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION_KEY] = build(intake_instruments(app))


def current_steps() -> Steps:
    """This app's intake steps (its instruments come from the settings)."""
    found: Steps = current_app.extensions[EXTENSION_KEY]
    return found
