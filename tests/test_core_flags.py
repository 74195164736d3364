"""Rule set v1: fit, urgent and needs_medical_review, each condition toggled on its own."""

from __future__ import annotations

import dataclasses

import pytest

from screening.core.flags import FIT_LABELS, RULESET, Assessment, assess
from screening.core.health_screen import CONTRAINDICATION, SAFETY_QUESTIONS
from screening.core.instruments import GAD7, PHQ9
from screening.core.scoring import Score, score, score_all
from screening.core.trials import Trial

NO_SAFETY = {q.code: False for q in SAFETY_QUESTIONS}
FORBIDDEN_WORDS = ("eligib", "diagnos", "has depression", "qualif")


def responses(phq9: int = 0, gad7: int = 0, item9: int = 0) -> dict[str, dict[str, int]]:
    """PHQ-9 and GAD-7 answers with these totals (item 9 counted in the PHQ-9 total)."""
    phq9_answers: dict[str, int] = {"9": item9}
    remaining = phq9 - item9
    assert remaining >= 0
    for item in PHQ9.scored_items[:8]:
        phq9_answers[item.key] = min(3, remaining)
        remaining -= min(3, remaining)
    assert remaining == 0
    phq9_answers["10"] = 1  # answered whatever the items: optional when all are 0
    gad7_answers: dict[str, int] = {}
    remaining = gad7
    for item in GAD7.items:
        gad7_answers[item.key] = min(3, remaining)
        remaining -= min(3, remaining)
    assert remaining == 0
    return {"phq9": phq9_answers, "gad7": gad7_answers}


def failed_trials(n: int) -> list[Trial]:
    names = ["Sertraline", "Escitalopram", "Venlafaxine", "Bupropion"]
    return [Trial(names[i], 8, True, "did_not_help") for i in range(n)]


def safety(*codes: str) -> dict[str, bool]:
    return {**NO_SAFETY, **{code: True for code in codes}}


def run(phq9=17, gad7=0, trials=2, item9=0, reported=()) -> Assessment:
    return assess(score_all(responses(phq9, gad7, item9)), failed_trials(trials), safety(*reported))


def all_reasons(result: Assessment) -> list[str]:
    return [reason for reasons in result.reasons.values() for reason in reasons]


def test_likely_fit_needs_all_three_conditions():
    result = run(phq9=10, trials=2)
    assert result.fit == "likely_fit"
    assert result.reasons["fit"] == [
        "PHQ-9 total 10 (10 or more)",
        "2 adequate antidepressant trials without enough response (2 or more)",
        "No contraindication reported",
    ]


def test_phq9_of_9_is_not_likely_fit():
    assert run(phq9=9, trials=2).fit == "unlikely_fit"
    assert run(phq9=9, gad7=10, trials=2).fit == "possible_fit"


def test_one_failed_trial_is_possible_not_likely():
    result = run(phq9=17, trials=1)
    assert result.fit == "possible_fit"
    assert result.adequate_failed_trials == 1
    assert (
        "1 adequate antidepressant trial without enough response (fewer than 2)"
        in result.reasons["fit"]
    )


@pytest.mark.parametrize("code", ["vascular_aneurysm", "brain_bleed", "ketamine_allergy"])
def test_a_contraindication_makes_it_possible_not_likely(code):
    result = run(phq9=17, trials=3, reported=[code])
    assert result.fit == "possible_fit"
    assert result.contraindications == (code,)
    assert result.needs_medical_review is True
    assert any(reason.startswith("Reported: ") for reason in result.reasons["fit"])


def test_contraindication_reason_reads_as_clinical_md_example():
    result = run(reported=["brain_bleed"])
    assert "Reported: a history of bleeding in the brain" in result.reasons["medical_review"]


def test_gad7_alone_of_10_or_more_is_possible_fit():
    result = run(phq9=4, gad7=10, trials=0)
    assert result.fit == "possible_fit"
    assert result.reasons["fit"] == ["GAD-7 total 10 (10 or more)"]


def test_both_under_10_is_unlikely_fit_whatever_the_trials():
    result = run(phq9=9, gad7=9, trials=4)
    assert result.fit == "unlikely_fit"
    assert result.reasons["fit"] == ["PHQ-9 total 9 (under 10)", "GAD-7 total 9 (under 10)"]


@pytest.mark.parametrize(("item9", "urgent"), [(0, False), (1, True), (2, True), (3, True)])
@pytest.mark.parametrize("others", [0, 24])  # items 1–8 all 0, or all 3
def test_urgent_is_item_9_of_1_or_more_whatever_the_total(item9, urgent, others):
    result = run(phq9=others + item9, item9=item9)
    assert result.urgent is urgent
    assert bool(result.reasons["urgent"]) is urgent


def test_urgent_reason_names_the_answer():
    assert run(phq9=5, item9=1).reasons["urgent"] == [
        "PHQ-9 item 9 (thoughts of self-harm) answered several days"
    ]


def test_urgent_does_not_change_fit():
    assert run(phq9=3, item9=3).fit == "unlikely_fit"


def test_needs_medical_review_from_a_caution_alone():
    result = run(reported=["pregnancy"])
    assert result.needs_medical_review is True
    assert result.contraindications == ()
    assert result.cautions == ("pregnancy",)
    assert result.fit == "likely_fit"  # a caution does not exclude
    assert result.reasons["medical_review"] == [
        "Reported: pregnant, breastfeeding, or planning a pregnancy"
    ]


def test_no_medical_review_without_contraindication_or_caution():
    result = run()
    assert result.needs_medical_review is False
    assert result.reasons["medical_review"] == []


def test_every_safety_code_lands_in_its_own_list():
    for question in SAFETY_QUESTIONS:
        result = run(reported=[question.code])
        listed = result.contraindications if question.kind == CONTRAINDICATION else result.cautions
        assert listed == (question.code,)
        assert result.needs_medical_review


def test_the_ruleset_is_carried_and_totals_stay_with_each_score():
    result = run(phq9=17, gad7=12)
    assert result.ruleset == RULESET == "v1"
    assert not hasattr(result, "phq9_total")
    scores = score_all(responses(phq9=17, gad7=12))
    assert scores == {"phq9": Score(17, "moderately_severe"), "gad7": Score(12, "moderate")}


def test_the_order_and_the_totals_come_from_the_scores_given():
    # The scores as stored may be handed over directly, in any order.
    result = assess({"gad7": Score(3, "minimal"), "phq9": Score(10, "moderate")},
                    failed_trials(2), safety())
    assert result.fit == "likely_fit"


def test_any_alert_raised_is_urgent_with_its_reason():
    scores = {
        "phq9": Score(3, "minimal"),
        "gad7": Score(0, "minimal"),
        "other": Score(1, "low", "Another instrument's alert"),
    }
    result = assess(scores, [], safety())
    assert result.urgent is True
    assert result.reasons["urgent"] == ["Another instrument's alert"]


def test_the_phq9_and_gad7_scores_are_required():
    with pytest.raises(ValueError, match="gad7"):
        assess({"phq9": score(PHQ9, responses()["phq9"])}, [], safety())


def test_assessment_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        run().fit = "likely_fit"  # type: ignore[misc]


@pytest.mark.parametrize(
    "case",
    [dict(phq9=p, gad7=g, trials=t, item9=i, reported=r)
     for p in (9, 10) for g in (9, 10) for t in (1, 2) for i in (0, 1)
     for r in ((), ("brain_bleed",), ("mania",))],
)
def test_reasons_never_use_forbidden_words(case):
    result = run(**case)
    text = " ".join(all_reasons(result)).lower()
    assert all(word not in text for word in FORBIDDEN_WORDS)
    assert result.reasons["fit"], "every fit carries its reasons"


def test_staff_labels_use_the_agreed_words():
    assert FIT_LABELS == {
        "likely_fit": "likely fit for a consultation",
        "possible_fit": "possible fit",
        "unlikely_fit": "unlikely fit at this time",
    }
    assert all(w not in " ".join(FIT_LABELS.values()) for w in FORBIDDEN_WORDS)
