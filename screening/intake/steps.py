"""The order of the intake's steps, and how each step's form maps to what the draft keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_wtf import FlaskForm

from ..i18n import lazy_gettext as _l
from . import forms


@dataclass(frozen=True)
class Step:
    key: str
    title: Any  # a lazy translated string
    form_class: type[FlaskForm]


STEPS = (
    Step("consent", _l("Your consent"), forms.ConsentForm),
    Step("about", _l("About you"), forms.AboutForm),
    Step("phq9", _l("How you have been feeling"), forms.PHQ9Form),
    Step("gad7", _l("Worry and anxiety"), forms.GAD7Form),
    Step("treatment", _l("Treatments you have tried"), forms.TreatmentForm),
    Step("health", _l("Your health and safety"), forms.HealthForm),
)
STEP_KEYS = tuple(step.key for step in STEPS)
BY_KEY = {step.key: step for step in STEPS}
#: The review page counts as the last step in "Step N of M".
TOTAL_STEPS = len(STEPS) + 1
REVIEW_NUMBER = TOTAL_STEPS


def number(key: str) -> int:
    return STEP_KEYS.index(key) + 1


def previous(key: str) -> str | None:
    """The step before ``key``, for the Back link."""
    index = STEP_KEYS.index(key)
    return STEP_KEYS[index - 1] if index else None


def first_incomplete(data: dict[str, Any]) -> str | None:
    """The first step without saved answers, or None when every step is done."""
    return next((key for key in STEP_KEYS if key not in data), None)


def values_to_keep(form: FlaskForm) -> dict[str, Any]:
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
    return values
