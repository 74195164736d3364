"""The plain intake questions as data: treatment history, health screen, options."""

from __future__ import annotations

from screening.core import health_screen, options, treatment_history
from screening.core.health_screen import CAUTION, CONTRAINDICATION, SAFETY_QUESTIONS


def test_response_options_are_the_four_of_clinical_md():
    assert [o.text.lower() for o in treatment_history.RESPONSE_OPTIONS] == [
        "helped a lot", "helped a little", "did not help", "stopped because of side effects",
    ]
    assert treatment_history.FAILED_RESPONSES == {"helped_a_little", "did_not_help"}
    assert treatment_history.ADEQUATE_TRIAL_WEEKS == 6


def test_safety_screen_has_the_three_contraindications_and_seven_cautions():
    by_kind = {
        kind: [q.code for q in SAFETY_QUESTIONS if q.kind == kind]
        for kind in (CONTRAINDICATION, CAUTION)
    }
    assert by_kind[CONTRAINDICATION] == ["vascular_aneurysm", "brain_bleed", "ketamine_allergy"]
    assert by_kind[CAUTION] == [
        "uncontrolled_blood_pressure", "heart_disease", "psychosis", "mania", "substance_use",
        "pregnancy", "sedatives_or_stimulants",
    ]
    assert len(health_screen.SAFETY_QUESTIONS) == 10


def test_every_safety_question_is_a_plain_question():
    for question in SAFETY_QUESTIONS:
        assert question.question.endswith("?")
        assert question.staff_label


def test_other_treatments_asked_include_therapy_ect_tms_and_prior_ketamine():
    assert [t.code for t in treatment_history.OTHER_TREATMENTS] == [
        "psychotherapy", "ect", "tms", "ketamine",
    ]


def test_at_least_eight_trial_rows_without_javascript():
    assert treatment_history.TRIAL_ROWS_WITHOUT_JS >= 8
    assert treatment_history.MAX_TRIAL_ROWS >= treatment_history.TRIAL_ROWS_WITHOUT_JS


def test_yes_no_and_contact_methods():
    assert [o.code for o in options.YES_NO] == ["yes", "no"]
    assert [o.code for o in options.CONTACT_METHODS] == ["email", "phone", "text"]
