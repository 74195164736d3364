"""The instruments as data: wording and LOINC codes exactly as CLINICAL.md."""

from __future__ import annotations

from screening.core import instruments as inst

# Copied by hand from CLINICAL.md (not from the HL7 example, which has typos).
PHQ9_ITEMS = [
    ("Little interest or pleasure in doing things", "44250-9"),
    ("Feeling down, depressed, or hopeless", "44255-8"),
    ("Trouble falling or staying asleep, or sleeping too much", "44259-0"),
    ("Feeling tired or having little energy", "44254-1"),
    ("Poor appetite or overeating", "44251-7"),
    ("Feeling bad about yourself — or that you are a failure or have let yourself or your"
     " family down", "44258-2"),
    ("Trouble concentrating on things, such as reading the newspaper or watching television",
     "44252-5"),
    ("Moving or speaking so slowly that other people could have noticed? Or the opposite — being"
     " so fidgety or restless that you have been moving around a lot more than usual", "44253-3"),
    ("Thoughts that you would be better off dead or of hurting yourself in some way", "44260-8"),
]
GAD7_ITEMS = [
    ("Feeling nervous, anxious, or on edge", "69725-0"),
    ("Not being able to stop or control worrying", "68509-9"),
    ("Worrying too much about different things", "69733-4"),
    ("Trouble relaxing", "69734-2"),
    ("Being so restless that it is hard to sit still", "69735-9"),
    ("Becoming easily annoyed or irritable", "69689-8"),
    ("Feeling afraid, as if something awful might happen", "69736-7"),
]
FREQUENCY = [
    (0, "Not at all", "LA6568-5"),
    (1, "Several days", "LA6569-3"),
    (2, "More than half the days", "LA6570-1"),
    (3, "Nearly every day", "LA6571-9"),
]


def test_phq9_items_wording_and_codes_are_exact():
    assert [(i.text, i.loinc) for i in inst.PHQ9.items] == PHQ9_ITEMS
    assert [i.number for i in inst.PHQ9.items] == list(range(1, 10))


def test_phq9_stem_panel_and_total_codes():
    assert inst.PHQ9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert (inst.PHQ9.panel_loinc, inst.PHQ9.total_loinc) == ("44249-1", "44261-6")
    assert inst.PHQ9.max_total == 27


def test_gad7_items_wording_and_codes_are_exact():
    assert [(i.text, i.loinc) for i in inst.GAD7.items] == GAD7_ITEMS
    # The wrong list circulating on the web starts at 69726-8.
    assert "69726-8" not in {i.loinc for i in inst.GAD7.items}


def test_gad7_stem_panel_and_total_codes():
    assert inst.GAD7.stem == (
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    )
    assert (inst.GAD7.panel_loinc, inst.GAD7.total_loinc) == ("69737-5", "70274-6")
    assert inst.GAD7.max_total == 21


def test_both_questionnaires_share_the_four_frequency_answers():
    for questionnaire in inst.QUESTIONNAIRES:
        assert [(c.value, c.text, c.loinc) for c in questionnaire.choices] == FREQUENCY


def test_item_10_wording_and_answer_codes_out_of_numeric_order():
    assert inst.PHQ9_DIFFICULTY.loinc == "69722-7"
    assert inst.PHQ9_DIFFICULTY.text == (
        "If you checked off any problems, how difficult have these problems made it for you to do"
        " your work, take care of things at home, or get along with other people?"
    )
    assert [(c.value, c.text, c.loinc) for c in inst.DIFFICULTY_CHOICES] == [
        (0, "Not difficult at all", "LA6572-7"),
        (1, "Somewhat difficult", "LA6573-5"),
        (2, "Very difficult", "LA6575-0"),
        (3, "Extremely difficult", "LA6574-3"),
    ]


def test_item_9_is_the_self_harm_item():
    assert inst.PHQ9_SELF_HARM_ITEM.loinc == "44260-8"
    assert inst.PHQ9.field(inst.PHQ9_SELF_HARM_ITEM) == "phq9_9"


def test_bands_cover_every_total_once_with_the_export_values():
    expected = {
        "phq9": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
                 (15, 19, "moderately_severe"), (20, 27, "severe")],
        "gad7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    }
    for questionnaire in inst.QUESTIONNAIRES:
        assert [(b.low, b.high, b.code) for b in questionnaire.bands] == expected[
            questionnaire.key
        ]


def test_response_options_are_the_four_of_clinical_md():
    assert [o.text.lower() for o in inst.RESPONSE_OPTIONS] == [
        "helped a lot", "helped a little", "did not help", "stopped because of side effects",
    ]
    assert inst.FAILED_RESPONSES == {"helped_a_little", "did_not_help"}


def test_safety_screen_has_the_three_contraindications_and_seven_cautions():
    by_kind = {
        kind: [q.code for q in inst.SAFETY_QUESTIONS if q.kind == kind]
        for kind in (inst.CONTRAINDICATION, inst.CAUTION)
    }
    assert by_kind[inst.CONTRAINDICATION] == [
        "vascular_aneurysm", "brain_bleed", "ketamine_allergy",
    ]
    assert by_kind[inst.CAUTION] == [
        "uncontrolled_blood_pressure", "heart_disease", "psychosis", "mania", "substance_use",
        "pregnancy", "sedatives_or_stimulants",
    ]


def test_every_safety_question_is_a_plain_question():
    for question in inst.SAFETY_QUESTIONS:
        assert question.question.endswith("?")
        assert question.staff_label


def test_other_treatments_asked_include_therapy_ect_tms_and_prior_ketamine():
    assert [t.code for t in inst.OTHER_TREATMENTS] == ["psychotherapy", "ect", "tms", "ketamine"]


def test_at_least_eight_trial_rows_without_javascript():
    assert inst.TRIAL_ROWS_WITHOUT_JS >= 8
    assert inst.MAX_TRIAL_ROWS >= inst.TRIAL_ROWS_WITHOUT_JS
