"""FHIR R4 resources generated from the instruments: Questionnaire, QuestionnaireResponse,
Patient, and a collection Bundle holding one patient's responses.

Pure: no flask, no sqlalchemy, no I/O; returns plain dicts ready for ``json.dumps``. Link ids
follow the LOINC form convention ``/panel/item``; answers carry their LOINC answer codes, and
each response ends with its total score as an item of its own.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from . import scoring
from .instruments import Choice, Instrument, Item, Required

LOINC = "http://loinc.org"
#: The identifier system of our submission references (a URN: no registry is implied).
REFERENCE_SYSTEM = "urn:screening:submission-reference"
#: FHIR's extension for the score an answer adds to the total.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
#: The namespace of the bundles' ``urn:uuid:`` fullUrls (a fixed, random UUID of our own).
ENTRY_NAMESPACE = uuid.UUID("3c0f7f76-7b5e-4a0c-9a43-3f1f0e5a2d61")
TOTAL_TEXT = "Total score"


def _utc(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be aware datetimes")
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def _coding(choice: Choice) -> dict[str, str]:
    # An answer without a LOINC code is coded by its stored value, with no system claimed.
    if choice.loinc is None:
        return {"code": str(choice.value), "display": choice.text}
    return {"system": LOINC, "code": choice.loinc, "display": choice.text}


def link_id(instrument: Instrument, code: str) -> str:
    """The linkId of an item (or the total) by its LOINC code, e.g. ``/44249-1/44260-8``."""
    return f"/{instrument.panel_loinc}/{code}"


def questionnaire_url(instrument: Instrument, canonical_base: str) -> str:
    """The Questionnaire's canonical url, e.g. ``https://clinic.example/fhir/Questionnaire/phq9``."""
    return f"{canonical_base.rstrip('/')}/fhir/Questionnaire/{instrument.key}"


def _question(instrument: Instrument, item: Item) -> dict[str, Any]:
    options = []
    for choice in item.answers.choices:
        coding: dict[str, Any] = _coding(choice)
        if item.scored:
            coding["extension"] = [{"url": ORDINAL_VALUE, "valueDecimal": choice.value}]
        options.append({"valueCoding": coding})
    question: dict[str, Any] = {
        "linkId": link_id(instrument, item.loinc),
        "code": [{"system": LOINC, "code": item.loinc}],
        "prefix": str(item.number),
        "text": item.text,
        "type": "choice",
        "required": item.required is Required.ALWAYS,
        "answerOption": options,
    }
    if item.required is Required.WHEN_ANY_SCORED_ITEM_ABOVE_0:
        # Said in words rather than enableWhen, which cannot express "any item above 0".
        hint = item.hint or "Required when any scored item is above 0."
        question["item"] = [
            {"linkId": f"{question['linkId']}/help", "text": hint, "type": "display"}
        ]
    return question


def questionnaire(instrument: Instrument, canonical_base: str) -> dict[str, Any]:
    """The instrument as a FHIR Questionnaire: no patient data."""
    return {
        "resourceType": "Questionnaire",
        "url": questionnaire_url(instrument, canonical_base),
        "version": instrument.version,
        # FHIR asks for a computer-friendly name: "PHQ9" for "PHQ-9".
        "name": re.sub(r"[^A-Za-z0-9_]", "", instrument.name),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "code": [{"system": LOINC, "code": instrument.panel_loinc, "display": instrument.name}],
        "item": [
            {"linkId": f"/{instrument.panel_loinc}/stem", "text": instrument.stem,
             "type": "display"},
            *(_question(instrument, item) for item in instrument.items),
            {
                "linkId": link_id(instrument, instrument.total_loinc),
                "code": [{"system": LOINC, "code": instrument.total_loinc}],
                "text": TOTAL_TEXT,
                "type": "integer",
                "readOnly": True,
            },
        ],
    }


def questionnaire_response(
    instrument: Instrument,
    answers: Mapping[str, int],
    total: int,
    authored: dt.datetime,
    *,
    questionnaire_url: str,
    subject_reference: str,
    identifier: str | None = None,
    language: str | None = None,
    response_id: str | None = None,
) -> dict[str, Any]:
    """One completed QuestionnaireResponse: the answers by item key, then the total.

    ``questionnaire_url`` is the Questionnaire's unversioned url; the response cites it with
    ``|version``. ``identifier`` is a submission reference. Refuses an incomplete response,
    or a total that is not the answers' total.
    """
    scoring.check(instrument, answers)
    if scoring.total(instrument, answers) != total:
        raise scoring.IncompleteResponse(f"{instrument.key}: {total} is not the answers' total")
    items = [
        {
            "linkId": link_id(instrument, item.loinc),
            "text": item.text,
            "answer": [{"valueCoding": _coding(item.answers.choice(answers[item.key]))}],
        }
        for item in instrument.items
        if answers.get(item.key) is not None  # an unanswered optional item is left out
    ]
    items.append({
        "linkId": link_id(instrument, instrument.total_loinc),
        "text": TOTAL_TEXT,
        "answer": [{"valueInteger": total}],
    })
    resource: dict[str, Any] = {"resourceType": "QuestionnaireResponse"}
    if response_id is not None:
        resource["id"] = response_id
    if language is not None:
        resource["language"] = language
    if identifier is not None:
        resource["identifier"] = {"system": REFERENCE_SYSTEM, "value": identifier}
    resource.update({
        "questionnaire": f"{questionnaire_url}|{instrument.version}",
        "status": "completed",
        "subject": {"reference": subject_reference},
        "authored": _utc(authored),
        "item": items,
    })
    return resource


def patient(
    first_name: str,
    last_name: str,
    birth_date: dt.date,
    *,
    email: str | None = None,
    phone: str | None = None,
    patient_id: str | None = None,
) -> dict[str, Any]:
    """A Patient from plain values: name, birth date, and email and phone as given."""
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if patient_id is not None:
        resource["id"] = patient_id
    resource["name"] = [{"family": last_name, "given": [first_name]}]
    telecom = [{"system": s, "value": v} for s, v in (("email", email), ("phone", phone)) if v]
    if telecom:
        resource["telecom"] = telecom
    resource["birthDate"] = birth_date.isoformat()
    return resource


def entry_url(stable_key: str, part: str) -> str:
    """A ``urn:uuid:`` fullUrl derived from ``stable_key`` (e.g. a submission reference), so
    the same document is written the same way every time."""
    return f"urn:uuid:{uuid.uuid5(ENTRY_NAMESPACE, f'{stable_key}/{part}')}"


def bundle(
    patient_resource: Mapping[str, Any],
    responses: Sequence[Mapping[str, Any]],
    *,
    stable_key: str,
    identifier: str | None = None,
    timestamp: dt.datetime | None = None,
) -> dict[str, Any]:
    """A ``collection`` Bundle: the patient, then each response with its ``subject`` set to
    the patient's fullUrl, so the references resolve within the bundle."""
    patient_url = entry_url(stable_key, "Patient")
    entries = [{"fullUrl": patient_url, "resource": dict(patient_resource)}]
    for number, response in enumerate(responses, 1):
        entries.append({
            "fullUrl": entry_url(stable_key, f"QuestionnaireResponse/{number}"),
            "resource": {**response, "subject": {"reference": patient_url}},
        })
    resource: dict[str, Any] = {"resourceType": "Bundle"}
    if identifier is not None:
        resource["identifier"] = {"system": REFERENCE_SYSTEM, "value": identifier}
    resource["type"] = "collection"
    if timestamp is not None:
        resource["timestamp"] = _utc(timestamp)
    resource["entry"] = entries
    return resource
