"""The instruments as data: wording and LOINC codes exactly as docs/clinical.md, and the helpers."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from screening.core import instruments as inst
from screening.core.instruments import GAD7, PHQ9, Required

# Copied by hand from docs/clinical.md (not from the HL7 example, which has typos).
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
    assert [(i.text, i.loinc) for i in PHQ9.scored_items] == PHQ9_ITEMS
    assert [i.number for i in PHQ9.scored_items] == list(range(1, 10))
    assert [i.key for i in PHQ9.items] == [str(n) for n in range(1, 11)]


def test_phq9_stem_panel_and_total_codes():
    assert PHQ9.stem == (
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    )
    assert (PHQ9.panel_loinc, PHQ9.total_loinc) == ("44249-1", "44261-6")
    assert PHQ9.max_total == 27


def test_gad7_items_wording_and_codes_are_exact():
    assert [(i.text, i.loinc) for i in GAD7.items] == GAD7_ITEMS
    assert [i.key for i in GAD7.items] == [str(n) for n in range(1, 8)]
    assert GAD7.items == GAD7.scored_items
    # The wrong list circulating on the web starts at 69726-8.
    assert "69726-8" not in {i.loinc for i in GAD7.items}


def test_gad7_stem_panel_and_total_codes():
    assert GAD7.stem == (
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    )
    assert (GAD7.panel_loinc, GAD7.total_loinc) == ("69737-5", "70274-6")
    assert GAD7.max_total == 21


def test_every_scored_item_has_the_four_frequency_answers():
    for instrument in (PHQ9, GAD7):
        for item in instrument.scored_items:
            assert item.answers is inst.FREQUENCY
    assert [(c.value, c.text, c.loinc) for c in inst.FREQUENCY.choices] == FREQUENCY
    assert inst.FREQUENCY.values == (0, 1, 2, 3)


def test_item_10_wording_answer_codes_out_of_numeric_order_and_legacy_field():
    item10 = PHQ9.item("10")
    assert (item10.number, item10.loinc, item10.scored) == (10, "69722-7", False)
    assert item10.text == (
        "If you checked off any problems, how difficult have these problems made it for you to do"
        " your work, take care of things at home, or get along with other people?"
    )
    assert [(c.value, c.text, c.loinc) for c in item10.answers.choices] == [
        (0, "Not difficult at all", "LA6572-7"),
        (1, "Somewhat difficult", "LA6573-5"),
        (2, "Very difficult", "LA6575-0"),
        (3, "Extremely difficult", "LA6574-3"),
    ]
    assert item10.required is Required.WHEN_ANY_SCORED_ITEM_ABOVE_0
    assert PHQ9.field(item10) == "phq9_difficulty"
    assert item10.hint == "Answer this if you chose anything other than “Not at all” above."
    assert PHQ9.unscored_items == (item10,)


def test_every_other_item_is_always_required_and_named_instrument_underscore_key():
    for instrument in (PHQ9, GAD7):
        for item in instrument.scored_items:
            assert item.required is Required.ALWAYS and item.hint is None
            assert instrument.field(item) == f"{instrument.key}_{item.number}"
    assert PHQ9.fields == (*(f"phq9_{n}" for n in range(1, 10)), "phq9_difficulty")


def test_the_phq9_alert_is_item_9_at_1_or_more_with_the_staff_words():
    alert = PHQ9.alert
    assert alert is not None
    assert (alert.item_key, alert.minimum, alert.column) == ("9", 1, "phq9_item9_positive")
    assert PHQ9.item(alert.item_key).loinc == "44260-8"
    assert alert.reason.format(answer="several days") == (
        "PHQ-9 item 9 (thoughts of self-harm) answered several days"
    )
    assert GAD7.alert is None


def test_reliable_change_and_remission_as_clinical_md():
    assert (PHQ9.change.reliable_change, PHQ9.change.remission_below) == (6, 5)
    assert (GAD7.change.reliable_change, GAD7.change.remission_below) == (4, 5)


def test_names_titles_and_step_titles():
    assert (PHQ9.name, PHQ9.title, PHQ9.step_title) == (
        "PHQ-9", "Mood (PHQ-9)", "How you have been feeling"
    )
    assert (GAD7.name, GAD7.title, GAD7.step_title) == (
        "GAD-7", "Anxiety (GAD-7)", "Worry and anxiety"
    )
    assert PHQ9.version and GAD7.version


def test_bands_cover_every_total_once_with_the_export_values():
    expected = {
        "phq9": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"),
                 (15, 19, "moderately_severe"), (20, 27, "severe")],
        "gad7": [(0, 4, "minimal"), (5, 9, "mild"), (10, 14, "moderate"), (15, 21, "severe")],
    }
    for instrument in (PHQ9, GAD7):
        assert [(b.low, b.high, b.code) for b in instrument.bands] == expected[instrument.key]
        covered = [t for b in instrument.bands for t in range(b.low, b.high + 1)]
        assert covered == list(range(instrument.max_total + 1))


def test_the_registry_and_the_intake_order():
    assert inst.INSTRUMENTS == {"phq9": PHQ9, "gad7": GAD7}
    assert inst.INTAKE_INSTRUMENTS == ("phq9", "gad7")
    assert inst.by_key("gad7") is GAD7
    with pytest.raises(KeyError, match="audit"):
        inst.by_key("audit")


def test_item_and_choice_look_ups_refuse_what_is_not_there():
    assert PHQ9.item("9").number == 9
    with pytest.raises(KeyError):
        PHQ9.item("11")
    assert inst.FREQUENCY.choice(2).text == "More than half the days"
    for wrong in (4, -1, True, 1.0, "1", None):
        with pytest.raises(ValueError):
            inst.FREQUENCY.choice(wrong)


def test_fields_and_answers_convert_both_ways_leaving_out_unanswered_items():
    values = {f"phq9_{n}": n % 4 for n in range(1, 10)}
    values |= {"phq9_difficulty": None, "csrf_token": "x", "gad7_1": 3}
    answers = PHQ9.fields_to_answers(values)
    assert answers == {str(n): n % 4 for n in range(1, 10)}
    assert PHQ9.answers_to_fields(answers) == {f"phq9_{n}": n % 4 for n in range(1, 10)}
    assert PHQ9.fields_to_answers({"phq9_difficulty": 2}) == {"10": 2}
    assert PHQ9.answers_to_fields({"10": 2}) == {"phq9_difficulty": 2}


CORE_DIR = Path(inst.__file__).parent


def patient_facing_strings() -> list[str]:
    from screening.core import health_screen, options, treatment_history

    strings: list[str] = []
    for instrument in inst.INSTRUMENTS.values():
        strings += [instrument.title, instrument.step_title, instrument.stem]
        for item in instrument.items:
            strings += [item.text, *(c.text for c in item.answers.choices)]
            strings += [item.hint] if item.hint else []
    for group in (treatment_history.RESPONSE_OPTIONS, options.YES_NO, options.CONTACT_METHODS):
        strings += [option.text for option in group]
    strings += [t.question for t in treatment_history.OTHER_TREATMENTS]
    strings += [q.question for q in health_screen.SAFETY_QUESTIONS]
    return strings


def test_every_patient_facing_string_is_marked_for_translation():
    extracted = {
        message for _file, _line, message, _comments, _context in extract_from_dir(
            str(CORE_DIR), keywords={"N_": None}
        )
    }
    missing = [text for text in patient_facing_strings() if text not in extracted]
    assert missing == []
