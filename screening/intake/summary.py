"""The review page's rows: every answer with its question, generated from the instruments."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import format_date

from ..core import instruments as inst
from ..web.i18n import gettext as _
from ..web.i18n import ngettext
from .steps import Steps

Row = tuple[str, str]


def _option_text(options: tuple[inst.Option, ...], code: str | None) -> str:
    return next((_(o.text) for o in options if o.code == code), _("Not answered"))


def _questionnaire_rows(q: inst.Questionnaire, values: dict[str, Any]) -> list[Row]:
    rows = [(f"{i.number}. {_(i.text)}", _(q.choice(values[q.field(i)]).text)) for i in q.items]
    if q is inst.PHQ9:
        chosen = values.get(inst.PHQ9_DIFFICULTY_FIELD)
        answer = next(
            (_(c.text) for c in inst.DIFFICULTY_CHOICES if c.value == chosen), _("Not answered")
        )
        rows.append((f"10. {_(inst.PHQ9_DIFFICULTY.text)}", answer))
    return rows


def _trial_text(row: dict[str, Any]) -> str:
    weeks = int(row["weeks"])
    return _(
        "%(weeks)s; %(prescribed)s; %(response)s",
        weeks=ngettext("%(num)s week", "%(num)s weeks", weeks),
        prescribed=_("taken as prescribed") if row["as_prescribed"] == "yes"
        else _("not taken as prescribed"),
        response=_option_text(inst.RESPONSE_OPTIONS, row["response"]).lower(),
    )


def review_sections(steps: Steps, data: dict[str, Any]) -> list[tuple[str, str, list[Row]]]:
    """(step key, title, rows) for each step of a complete draft."""
    about = data["about"]
    treatment = data["treatment"]
    sections: dict[str, list[Row]] = {
        "consent": [(_("Consent to store and review your answers"), _("Yes"))],
        "about": [
            (_("Name"), f"{about['first_name']} {about['last_name']}"),
            (_("Date of birth"),
             format_date(dt.date.fromisoformat(about["date_of_birth"]), format="long")),
            (_("Email address"), about["email"]),
            (_("Phone number"), about["phone"]),
            (_("Preferred contact"), _option_text(inst.CONTACT_METHODS, about["contact_method"])),
        ],
        "phq9": _questionnaire_rows(inst.PHQ9, data["phq9"]),
        "gad7": _questionnaire_rows(inst.GAD7, data["gad7"]),
        "treatment": [(row["medication"], _trial_text(row)) for row in treatment["trials"]]
        or [(_("Antidepressants"), _("None listed"))],
        "health": [
            (_(q.question), _option_text(inst.YES_NO, data["health"][q.code]))
            for q in inst.SAFETY_QUESTIONS
        ],
    }
    for other in inst.OTHER_TREATMENTS:
        sections["treatment"].append(
            (_(other.question), _option_text(inst.YES_NO, treatment[f"other_{other.code}"]))
        )
    if treatment.get("other_ketamine") == "yes":
        sections["treatment"].append(
            (_("How did the ketamine or esketamine treatment go?"),
             _option_text(inst.RESPONSE_OPTIONS, treatment.get("ketamine_outcome")))
        )
    if treatment.get("treatment_notes"):
        sections["treatment"].append((_("Anything else"), treatment["treatment_notes"]))
    return [(step.key, str(step.title), sections[step.key]) for step in steps]
