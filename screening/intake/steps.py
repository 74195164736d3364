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

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict

from ..web.i18n import lazy_gettext as _l
from . import forms


@dataclass(frozen=True)
class Step:
    """One page of the intake."""

    key: str
    title: Any  # a lazy translated string
    form_class: type[FlaskForm]
    template: str
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


STEPS = Steps((
    Step("consent", _l("Your consent"), forms.ConsentForm, "intake/consent.html",
         opens_draft=True, records_time_as="consented_at"),
    Step("about", _l("About you"), forms.AboutForm, "intake/about.html",
         asks_date_of_birth=True),
    Step("phq9", _l("How you have been feeling"), forms.PHQ9Form, "intake/phq9.html"),
    Step("gad7", _l("Worry and anxiety"), forms.GAD7Form, "intake/gad7.html"),
    Step("treatment", _l("Treatments you have tried"), forms.TreatmentForm,
         "intake/treatment.html"),
    Step("health", _l("Your health and safety"), forms.HealthForm, "intake/health.html"),
))
