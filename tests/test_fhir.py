"""FHIR export: the pure QuestionnaireResponse builder, validated by fhir.resources."""

from __future__ import annotations

import datetime as dt

# fhir.resources 8.x defaults to R5; R4B (FHIR 4.3.0) is its R4-compatible model set, and
# QuestionnaireResponse is unchanged between R4 and R4B.
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening.core import fhir
from screening.core import instruments as inst

AUTHORED = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def answers(phq9: list[int], gad7: list[int]) -> dict[str, int]:
    values = {f"phq9_{n}": v for n, v in enumerate(phq9, 1)}
    values.update({f"gad7_{n}": v for n, v in enumerate(gad7, 1)})
    return values


def build(difficulty: int | None = 3) -> dict:
    return fhir.questionnaire_response(
        "ABCD-EFGH", AUTHORED, answers([0, 1, 2, 3, 0, 1, 2, 3, 1], [3, 2, 1, 0, 3, 2, 1]),
        difficulty,
    )


def by_link(group: dict) -> dict[str, dict]:
    return {item["linkId"]: item for item in group["item"]}


def test_the_response_is_valid_fhir_r4():
    resource = QuestionnaireResponse.model_validate(build())
    assert resource.status == "completed"
    assert resource.identifier.value == "ABCD-EFGH"
    assert resource.authored.isoformat().startswith("2026-03-04T05:06:07")


def test_phq9_items_carry_loinc_item_and_answer_codes_and_the_total():
    phq9 = build()["item"][0]
    assert phq9["linkId"] == "/44249-1"
    items = by_link(phq9)
    assert items["/44249-1/44250-9"]["answer"][0]["valueCoding"]["code"] == "LA6568-5"  # 0
    assert items["/44249-1/44254-1"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"  # 3
    assert items["/44249-1/44260-8"]["answer"][0]["valueCoding"] == {
        "system": "http://loinc.org", "code": "LA6569-3", "display": "Several days",
    }
    # Extremely difficult is LA6574-3: the code out of numeric order.
    assert items["/44249-1/69722-7"]["answer"][0]["valueCoding"]["code"] == "LA6574-3"
    assert items["/44249-1/44261-6"]["answer"] == [{"valueInteger": 13}]
    assert [i["linkId"] for i in phq9["item"]][:9] == [
        f"/44249-1/{item.loinc}" for item in inst.PHQ9.items
    ]


def test_gad7_items_and_total():
    gad7 = build()["item"][1]
    assert gad7["linkId"] == "/69737-5"
    items = by_link(gad7)
    assert len(items) == 8
    assert items["/69737-5/69725-0"]["answer"][0]["valueCoding"]["code"] == "LA6571-9"
    assert items["/69737-5/68509-9"]["answer"][0]["valueCoding"]["code"] == "LA6570-1"
    assert items["/69737-5/70274-6"]["answer"] == [{"valueInteger": 12}]
    QuestionnaireResponse.model_validate(build())


def test_an_unanswered_difficulty_item_is_left_out_and_still_valid():
    resource = build(difficulty=None)
    assert "/44249-1/69722-7" not in by_link(resource["item"][0])
    QuestionnaireResponse.model_validate(resource)


def test_no_identifying_data_is_included():
    text = str(build())
    assert "Alex" not in text and "@" not in text and "birth" not in text.lower()
