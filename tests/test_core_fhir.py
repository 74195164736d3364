"""FHIR resources from the instruments, validated by fhir.resources.

fhir.resources 8.x defaults to R5 and holds no plain R4 package; R4B (FHIR 4.3.0) is its
R4-compatible model set, and Questionnaire, QuestionnaireResponse, Patient and Bundle are
unchanged between R4 and R4B for everything used here.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening.core import fhir
from screening.core.instruments import GAD7, PHQ9, Instrument
from screening.core.scoring import IncompleteResponse

BASE = "https://clinic.example"
AUTHORED = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
PHQ9_ANSWERS = {**{str(n): v for n, v in enumerate([0, 1, 2, 3, 0, 1, 2, 3, 1], 1)}, "10": 3}
GAD7_ANSWERS = {str(n): v for n, v in enumerate([3, 2, 1, 0, 3, 2, 1], 1)}


def response(instrument: Instrument = PHQ9, answers=None, total=None, **options) -> dict:
    answers = PHQ9_ANSWERS if answers is None else answers
    return fhir.questionnaire_response(
        instrument, answers, 13 if total is None else total, AUTHORED,
        questionnaire_url=fhir.questionnaire_url(instrument, BASE),
        subject_reference="Patient/example", **options,
    )


def by_link(items: list[dict]) -> dict[str, dict]:
    return {item["linkId"]: item for item in items}


# -- Questionnaire ----------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_the_questionnaire_is_valid_fhir_r4(instrument):
    resource = Questionnaire.model_validate(fhir.questionnaire(instrument, BASE))
    assert resource.status == "active"
    assert resource.url == f"https://clinic.example/fhir/Questionnaire/{instrument.key}"
    assert resource.version == instrument.version
    assert resource.code[0].code == instrument.panel_loinc


def test_the_questionnaire_name_is_computer_friendly_and_the_title_the_staff_title():
    document = fhir.questionnaire(PHQ9, BASE + "/")
    assert document["url"] == "https://clinic.example/fhir/Questionnaire/phq9"
    assert (document["name"], document["title"]) == ("PHQ9", "Mood (PHQ-9)")
    # FHIR's invariant que-0, which fhir.resources does not check.
    assert re.fullmatch(r"[A-Z]([A-Za-z0-9_]){0,254}", document["name"])


def test_the_questionnaire_items_carry_wording_codes_and_scores_from_the_data():
    document = fhir.questionnaire(PHQ9, BASE)
    items = by_link(document["item"])
    assert document["item"][0] == {
        "linkId": "/44249-1/stem", "text": PHQ9.stem, "type": "display",
    }
    item9 = items["/44249-1/44260-8"]
    assert (item9["text"], item9["type"], item9["required"], item9["prefix"]) == (
        PHQ9.item("9").text, "choice", True, "9",
    )
    assert item9["answerOption"][1]["valueCoding"] == {
        "system": "http://loinc.org", "code": "LA6569-3", "display": "Several days",
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                       "valueDecimal": 1}],
    }
    total = items["/44249-1/44261-6"]
    assert (total["type"], total["readOnly"]) == ("integer", True)
    assert [i["linkId"] for i in document["item"]][-1] == "/44249-1/44261-6"


def test_item_10_is_optional_unscored_and_says_when_it_is_needed():
    item10 = by_link(fhir.questionnaire(PHQ9, BASE)["item"])["/44249-1/69722-7"]
    assert item10["required"] is False
    assert [o["valueCoding"]["code"] for o in item10["answerOption"]] == [
        "LA6572-7", "LA6573-5", "LA6575-0", "LA6574-3",
    ]
    assert all("extension" not in o["valueCoding"] for o in item10["answerOption"])
    assert item10["item"] == [{
        "linkId": "/44249-1/69722-7/help", "type": "display",
        "text": "Answer this if you chose anything other than “Not at all” above.",
    }]


def test_the_questionnaire_holds_no_patient_data():
    text = json.dumps([fhir.questionnaire(i, BASE) for i in (PHQ9, GAD7)])
    assert '"subject"' not in text and "authored" not in text


# -- QuestionnaireResponse --------------------------------------------------------------------


def test_the_response_is_valid_fhir_r4():
    resource = QuestionnaireResponse.model_validate(
        response(identifier="ABCD-EFGH", language="es", response_id="phq9-1")
    )
    assert resource.status == "completed"
    assert resource.identifier.system == "urn:screening:submission-reference"
    assert resource.identifier.value == "ABCD-EFGH"
    assert resource.authored.isoformat().startswith("2026-03-04T05:06:07")
    assert (resource.language, resource.id) == ("es", "phq9-1")
    assert resource.questionnaire == "https://clinic.example/fhir/Questionnaire/phq9|1"
    assert resource.subject.reference == "Patient/example"


def test_phq9_items_carry_loinc_item_and_answer_codes_and_the_total():
    items = by_link(response()["item"])
    assert items["/44249-1/44250-9"]["answer"][0]["valueCoding"]["code"] == "LA6568-5"  # 0
    assert items["/44249-1/44254-1"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"  # 3
    assert items["/44249-1/44260-8"]["answer"][0]["valueCoding"] == {
        "system": "http://loinc.org", "code": "LA6569-3", "display": "Several days",
    }
    # Extremely difficult is LA6574-3: the code out of numeric order.
    assert items["/44249-1/69722-7"]["answer"][0]["valueCoding"]["code"] == "LA6574-3"
    assert items["/44249-1/44261-6"]["answer"] == [{"valueInteger": 13}]
    assert [i["linkId"] for i in response()["item"]] == [
        *(f"/44249-1/{item.loinc}" for item in PHQ9.items), "/44249-1/44261-6",
    ]


def test_gad7_items_and_total():
    document = response(GAD7, GAD7_ANSWERS, 12)
    items = by_link(document["item"])
    assert len(items) == 8
    assert items["/69737-5/69725-0"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"
    assert items["/69737-5/68509-9"]["answer"][0]["valueCoding"]["code"] == "LA6570-1"
    assert items["/69737-5/70274-6"]["answer"] == [{"valueInteger": 12}]
    assert document["questionnaire"].endswith("/fhir/Questionnaire/gad7|1")
    QuestionnaireResponse.model_validate(document)


def test_an_unanswered_optional_item_is_left_out_and_still_valid():
    zeros = {str(n): 0 for n in range(1, 10)}
    document = response(answers=zeros, total=0)
    assert "/44249-1/69722-7" not in by_link(document["item"])
    QuestionnaireResponse.model_validate(document)


def test_optional_fields_are_left_out_when_not_given():
    document = response()
    assert not {"id", "language", "identifier"} & set(document)


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_every_answered_link_and_coding_is_one_the_questionnaire_offers(instrument):
    answers = PHQ9_ANSWERS if instrument is PHQ9 else GAD7_ANSWERS
    document = response(instrument, answers, 13 if instrument is PHQ9 else 12)
    offered = by_link(fhir.questionnaire(instrument, BASE)["item"])
    for item in document["item"]:
        question = offered[item["linkId"]]
        answer = item["answer"][0]
        if "valueCoding" in answer:
            codings = [
                {k: v for k, v in o["valueCoding"].items() if k != "extension"}
                for o in question["answerOption"]
            ]
            assert answer["valueCoding"] in codings
        else:
            assert question["type"] == "integer"


def test_an_incomplete_response_or_a_wrong_total_is_refused():
    with pytest.raises(IncompleteResponse):
        response(answers={k: v for k, v in PHQ9_ANSWERS.items() if k != "10"})  # 10 required
    with pytest.raises(IncompleteResponse):
        response(total=14)
    with pytest.raises(ValueError):
        fhir.questionnaire_response(
            PHQ9, PHQ9_ANSWERS, 13, dt.datetime(2026, 3, 4), questionnaire_url="x",
            subject_reference="Patient/1",
        )


def test_the_response_holds_no_identifying_data():
    text = json.dumps(response(identifier="ABCD-EFGH"))
    assert "Alex" not in text and "@" not in text and "birth" not in text.lower()


# -- Patient and Bundle -----------------------------------------------------------------------


def patient() -> dict:
    return fhir.patient("Alex", "Testperson", dt.date(1984, 6, 14),
                        email="alex.testperson@example.com", phone="555 010 4477")


def test_the_patient_is_valid_fhir_r4_from_plain_values():
    resource = Patient.model_validate(patient())
    assert resource.name[0].family == "Testperson" and resource.name[0].given == ["Alex"]
    assert resource.birthDate == dt.date(1984, 6, 14)
    assert [(t.system, t.value) for t in resource.telecom] == [
        ("email", "alex.testperson@example.com"), ("phone", "555 010 4477"),
    ]


def test_a_patient_without_contact_details_has_no_telecom():
    document = fhir.patient("Alex", "Testperson", dt.date(1984, 6, 14), patient_id="p1")
    assert "telecom" not in document and document["id"] == "p1"
    Patient.model_validate(document)


def build_bundle() -> dict:
    return fhir.bundle(
        patient(), [response(identifier="ABCD-EFGH"), response(GAD7, GAD7_ANSWERS, 12)],
        stable_key="ABCD-EFGH", identifier="ABCD-EFGH",
        timestamp=dt.datetime(2026, 3, 4, 7, 6, 7, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    )


def test_the_bundle_is_a_valid_collection_whose_subjects_resolve_inside_it():
    document = build_bundle()
    resource = Bundle.model_validate(document)
    assert resource.type == "collection"
    assert document["timestamp"] == "2026-03-04T05:06:07+00:00"
    assert document["identifier"] == {
        "system": "urn:screening:submission-reference", "value": "ABCD-EFGH",
    }
    patient_entry, *response_entries = document["entry"]
    assert patient_entry["resource"]["resourceType"] == "Patient"
    assert len(response_entries) == 2
    urls = [entry["fullUrl"] for entry in document["entry"]]
    assert len(set(urls)) == 3
    assert all(re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", url) for url in urls)
    for entry in response_entries:
        assert entry["resource"]["subject"] == {"reference": patient_entry["fullUrl"]}


def test_the_bundle_is_the_same_every_time_and_differs_by_key():
    assert build_bundle() == build_bundle()
    other = fhir.bundle(patient(), [response()], stable_key="WXYZ-2345")
    assert other["entry"][0]["fullUrl"] != build_bundle()["entry"][0]["fullUrl"]
    assert "identifier" not in other and "timestamp" not in other
    Bundle.model_validate(other)


def test_the_bundle_leaves_the_resources_given_unchanged():
    original = response()
    fhir.bundle(patient(), [original], stable_key="ABCD-EFGH")
    assert original["subject"] == {"reference": "Patient/example"}
