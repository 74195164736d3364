"""FHIR R4 QuestionnaireResponse for the PHQ-9 and GAD-7, generated from the instruments.

Pure: no flask, no sqlalchemy, no I/O; returns plain dicts ready for ``json.dumps``. One
response holds two groups (the PHQ-9 panel 44249-1 and the GAD-7 panel 69737-5), linkIds
follow the LOINC form convention ``/panel/item``, answers carry their LOINC answer codes,
and each group ends with its total score. No name, birth date or contact detail is included:
the clinic's reference identifies the submission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from .instruments import (
    DIFFICULTY_CHOICES,
    PHQ9,
    PHQ9_DIFFICULTY,
    QUESTIONNAIRES,
    Choice,
    Questionnaire,
)
from .scoring import total

LOINC = "http://loinc.org"
#: The identifier system of our submission references (a URN: no registry is implied).
REFERENCE_SYSTEM = "urn:screening:submission-reference"


def _coding(choice: Choice) -> dict[str, str]:
    return {"system": LOINC, "code": choice.loinc, "display": choice.text}


def _group(
    questionnaire: Questionnaire, answers: Mapping[str, int], difficulty: int | None
) -> dict[str, Any]:
    panel = f"/{questionnaire.panel_loinc}"
    items: list[dict[str, Any]] = [
        {
            "linkId": f"{panel}/{item.loinc}",
            "text": item.text,
            "answer": [
                {"valueCoding": _coding(questionnaire.choice(answers[questionnaire.field(item)]))}
            ],
        }
        for item in questionnaire.items
    ]
    if questionnaire is PHQ9 and difficulty is not None:
        chosen = next(c for c in DIFFICULTY_CHOICES if c.value == difficulty)
        items.append(
            {
                "linkId": f"{panel}/{PHQ9_DIFFICULTY.loinc}",
                "text": PHQ9_DIFFICULTY.text,
                "answer": [{"valueCoding": _coding(chosen)}],
            }
        )
    items.append(
        {
            "linkId": f"{panel}/{questionnaire.total_loinc}",
            "text": "Total score",
            "answer": [{"valueInteger": total(questionnaire, answers)}],
        }
    )
    return {"linkId": panel, "text": questionnaire.title, "item": items}


def questionnaire_response(
    reference: str,
    authored: dt.datetime,
    answers: Mapping[str, int],
    difficulty: int | None,
) -> dict[str, Any]:
    """A completed QuestionnaireResponse with the PHQ-9 and GAD-7 answers and totals."""
    if authored.tzinfo is None:
        raise ValueError("authored must be an aware datetime")
    return {
        "resourceType": "QuestionnaireResponse",
        "identifier": {"system": REFERENCE_SYSTEM, "value": reference},
        "status": "completed",
        "authored": authored.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "item": [_group(q, answers, difficulty) for q in QUESTIONNAIRES],
    }
