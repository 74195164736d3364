"""A made-up instrument, defined here and nowhere in the product, works from its data alone:
scoring, bands, required items, the alert, measurement, CSV columns and cells, and FHIR."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening.core import export_csv, fhir
from screening.core.flags import assess
from screening.core.health_screen import SAFETY_QUESTIONS
from screening.core.instruments import (
    Alert,
    AnswerSet,
    Band,
    ChangeRules,
    Choice,
    Instrument,
    Item,
    Required,
)
from screening.core.measurement import measure
from screening.core.scoring import (
    IncompleteResponse,
    Score,
    missing_items,
    required_items,
    score,
    total,
)

# Synthetic: no LOINC answer codes at all, and made-up item codes.
HOW_OFTEN = AnswerSet("how_often", tuple(
    Choice(value, text) for value, text in
    enumerate(("Never", "Rarely", "Sometimes", "Often", "Always"))
))
BOTHER = AnswerSet("bother", (
    Choice(0, "Not at all", "ZZ-0"), Choice(1, "A little", "ZZ-1"), Choice(2, "A lot", "ZZ-2"),
))
SAMPLE = Instrument(
    key="habits",
    version="3",
    name="HAB-3",
    title="Habits (HAB-3)",
    step_title="Your habits",
    stem="In the last month:",
    panel_loinc="X0000-1",
    total_loinc="X0000-9",
    items=(
        Item("a", 1, "How often did you do the first thing?", "X0001-1", HOW_OFTEN),
        Item("b", 2, "How often did you do the second thing?", "X0002-1", HOW_OFTEN),
        Item("c", 3, "If any, how much did it bother you?", "X0003-1", BOTHER, scored=False,
             required=Required.WHEN_ANY_SCORED_ITEM_ABOVE_0, field="habits_bother",
             hint="Only if you did either."),
    ),
    bands=(Band(0, 3, "low", "low"), Band(4, 8, "high", "high")),
    alert=Alert("b", 3, "HAB-3 item 2 answered {answer}", "habits_b_positive"),
    change=ChangeRules(reliable_change=2, remission_below=2),
)
AUTHORED = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


def test_its_helpers_follow_its_data():
    assert SAMPLE.max_total == 8
    assert [i.key for i in SAMPLE.scored_items] == ["a", "b"]
    assert SAMPLE.fields == ("habits_a", "habits_b", "habits_bother")
    assert SAMPLE.fields_to_answers({"habits_a": 1, "habits_bother": 0}) == {"a": 1, "c": 0}


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(0, 0, Score(0, "low")), (2, 1, Score(3, "low")), (3, 1, Score(4, "high")),
     (1, 3, Score(4, "high", "HAB-3 item 2 answered often")),
     (4, 4, Score(8, "high", "HAB-3 item 2 answered always"))],
)
def test_score_band_and_alert(a, b, expected):
    answers = {"a": a, "b": b, "c": 1} if a or b else {"a": 0, "b": 0}
    assert score(SAMPLE, answers) == expected


def test_a_partial_or_out_of_range_response_is_refused():
    with pytest.raises(IncompleteResponse):
        total(SAMPLE, {"a": 1})
    with pytest.raises(IncompleteResponse):
        score(SAMPLE, {"a": 5, "b": 0})
    with pytest.raises(IncompleteResponse, match="habits_bother"):
        score(SAMPLE, {"a": 0, "b": 1})  # c is now required


def test_its_optional_item_is_required_once_a_scored_item_is_above_0():
    assert required_items(SAMPLE, {"a": 0, "b": 0}) == SAMPLE.scored_items
    assert missing_items(SAMPLE, {"a": 0, "b": 2}) == (SAMPLE.item("c"),)
    assert missing_items(SAMPLE, {"a": 0, "b": 2, "c": 2}) == ()


def test_its_alert_makes_the_v1_flags_urgent_beside_the_phq9_and_gad7():
    scores = {"phq9": Score(3, "minimal"), "gad7": Score(2, "minimal"),
              "habits": score(SAMPLE, {"a": 0, "b": 4, "c": 2})}
    result = assess(scores, [], {q.code: False for q in SAFETY_QUESTIONS})
    assert result.urgent is True
    assert result.reasons["urgent"] == ["HAB-3 item 2 answered always"]
    assert result.fit == "unlikely_fit"


def test_measurement_uses_its_own_change_rules():
    assert measure(SAMPLE, 5, 7).deterioration is True
    assert measure(SAMPLE, 5, 6).deterioration is False
    assert measure(SAMPLE, 5, 1).labels == ("responding", "in remission")


def test_its_csv_columns_and_cells_come_from_its_data():
    csv_layout = export_csv.CsvLayout([SAMPLE])
    assert csv_layout.columns[7:13] == (
        "habits_a", "habits_b", "habits_total", "habits_severity", "habits_bother",
        "habits_b_positive",
    )
    submission = ("REFR-2345", "2026-03-04T05:06:07Z", "Sam", "Sample", "1990-01-02",
                  "sam@example.com", "555 010 0000", 0, "[]", "[]", "unlikely_fit", 1, 0, "v1",
                  "new", None)
    answers = json.dumps({"c": 1, "b": 3, "a": 1})
    text = export_csv.text([csv_layout.header(),
                            csv_layout.row((*submission, answers, 4, "high")),
                            csv_layout.row((*submission, None, None, None))])
    assert text == (
        "reference,submitted_at,first_name,last_name,date_of_birth,email,phone,habits_a,"
        "habits_b,habits_total,habits_severity,habits_bother,habits_b_positive,"
        "adequate_failed_trials,contraindications,cautions,fit,urgent,needs_medical_review,"
        "ruleset,review_status,acknowledged_at\r\n"
        "REFR-2345,2026-03-04T05:06:07Z,Sam,Sample,1990-01-02,sam@example.com,555 010 0000,"
        "1,3,4,high,1,true,0,,,unlikely_fit,true,false,v1,new,\r\n"
        "REFR-2345,2026-03-04T05:06:07Z,Sam,Sample,1990-01-02,sam@example.com,555 010 0000,"
        ",,,,,,0,,,unlikely_fit,true,false,v1,new,\r\n"
    )


def test_its_fhir_questionnaire_and_response_come_from_its_data():
    document = fhir.questionnaire(SAMPLE, "https://clinic.example")
    Questionnaire.model_validate(document)
    assert (document["name"], document["version"]) == ("HAB3", "3")
    items = {item["linkId"]: item for item in document["item"]}
    assert items["/X0000-1/X0001-1"]["answerOption"][4]["valueCoding"] == {
        "code": "4", "display": "Always",  # no LOINC code: no system claimed
        "extension": [{"url": fhir.ORDINAL_VALUE, "valueDecimal": 4}],
    }
    assert items["/X0000-1/X0003-1"]["required"] is False
    assert items["/X0000-1/X0003-1"]["item"][0]["text"] == "Only if you did either."
    answered = fhir.questionnaire_response(
        SAMPLE, {"a": 1, "b": 3, "c": 2}, 4, AUTHORED,
        questionnaire_url=document["url"], subject_reference="Patient/sample",
    )
    QuestionnaireResponse.model_validate(answered)
    assert answered["questionnaire"] == "https://clinic.example/fhir/Questionnaire/habits|3"
    assert [(i["linkId"], i["answer"][0]) for i in answered["item"]] == [
        ("/X0000-1/X0001-1", {"valueCoding": {"code": "1", "display": "Rarely"}}),
        ("/X0000-1/X0002-1", {"valueCoding": {"code": "3", "display": "Often"}}),
        ("/X0000-1/X0003-1", {"valueCoding": {"system": "http://loinc.org", "code": "ZZ-2",
                                              "display": "A lot"}}),
        ("/X0000-1/X0000-9", {"valueInteger": 4}),
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"bands": (Band(0, 3, "low", "low"), Band(5, 8, "high", "high"))},  # a gap
        {"bands": (Band(0, 4, "low", "low"), Band(4, 8, "high", "high"))},  # an overlap
        {"bands": (Band(0, 3, "low", "low"), Band(4, 7, "high", "high"))},  # short of 8
        {"bands": (Band(4, 8, "high", "high"), Band(0, 3, "low", "low"))},  # out of order
        {"bands": ()},
        {"bands": (Band(0, 8, "all", "all"), Band(3, 2, "odd", "odd"))},
        {"alert": Alert("z", 1, "", "col")},  # no such item
        {"items": (*SAMPLE.items, SAMPLE.items[0])},  # a key twice
        {"items": (SAMPLE.items[0], Item("z", 9, "", "X", HOW_OFTEN, field="habits_a"),
                   *SAMPLE.items[1:])},  # a field twice
    ],
)
def test_a_definition_with_a_mistake_is_refused_when_it_is_made(change):
    with pytest.raises(ValueError):
        dataclasses.replace(SAMPLE, **change)
