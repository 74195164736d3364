"""The review page's rows: every answer with its question, in the patient's language.

Each step names the function here that lists its answers (``Step.review_rows``); a
questionnaire's rows come from its instrument's definition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask_babel import format_date

from ..core import health_screen, options, treatment_history
from ..core.instruments import Instrument
from ..core.options import Option
from ..web.i18n import gettext as _
from ..web.i18n import ngettext

Row = tuple[str, str]
RowsOf = Callable[[Mapping[str, Any]], list[Row]]


def _option_text(choices: tuple[Option, ...], code: str | None) -> str:
    return next((_(o.text) for o in choices if o.code == code), _("Not answered"))


def questionnaire_rows(instrument: Instrument) -> RowsOf:
    """The rows of ``instrument``'s step: each item, numbered, with the answer chosen."""

    def rows(values: Mapping[str, Any]) -> list[Row]:
        found = []
        for item in instrument.items:
            value = values.get(instrument.field(item))
            answer = (
                _(item.answers.choice(value).text) if value is not None else _("Not answered")
            )
            found.append((f"{item.number}. {_(item.text)}", answer))
        return found

    return rows


def consent_rows(values: Mapping[str, Any]) -> list[Row]:
    return [(_("Consent to store and review your answers"), _("Yes"))]


def about_rows(about: Mapping[str, Any]) -> list[Row]:
    return [
        (_("Name"), f"{about['first_name']} {about['last_name']}"),
        (_("Date of birth"),
         format_date(dt.date.fromisoformat(about["date_of_birth"]), format="long")),
        (_("Email address"), about["email"]),
        (_("Phone number"), about["phone"]),
        (_("Preferred contact"), _option_text(options.CONTACT_METHODS, about["contact_method"])),
    ]


def _trial_text(row: Mapping[str, Any]) -> str:
    weeks = int(row["weeks"])
    return _(
        "%(weeks)s; %(prescribed)s; %(response)s",
        weeks=ngettext("%(num)s week", "%(num)s weeks", weeks),
        prescribed=_("taken as prescribed") if row["as_prescribed"] == "yes"
        else _("not taken as prescribed"),
        response=_option_text(treatment_history.RESPONSE_OPTIONS, row["response"]).lower(),
    )


def treatment_rows(treatment: Mapping[str, Any]) -> list[Row]:
    rows = [(row["medication"], _trial_text(row)) for row in treatment["trials"]] or [
        (_("Antidepressants"), _("None listed"))
    ]
    for other in treatment_history.OTHER_TREATMENTS:
        rows.append(
            (_(other.question), _option_text(options.YES_NO, treatment[f"other_{other.code}"]))
        )
    if treatment.get("other_ketamine") == "yes":
        rows.append(
            (_("How did the ketamine or esketamine treatment go?"),
             _option_text(treatment_history.RESPONSE_OPTIONS, treatment.get("ketamine_outcome")))
        )
    if treatment.get("treatment_notes"):
        rows.append((_("Anything else"), treatment["treatment_notes"]))
    return rows


def health_rows(health: Mapping[str, Any]) -> list[Row]:
    return [
        (_(q.question), _option_text(options.YES_NO, health[q.code]))
        for q in health_screen.SAFETY_QUESTIONS
    ]
