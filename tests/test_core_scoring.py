"""Totals, bands, alerts and required items: every edge, and never a partial or prorated total."""

from __future__ import annotations

import pytest

from screening.core.instruments import GAD7, PHQ9, Instrument
from screening.core.scoring import (
    IncompleteResponse,
    Score,
    alert_raised,
    alert_reason,
    band,
    check,
    invalid_items,
    missing_items,
    required_items,
    score,
    score_all,
    total,
)


def answers_totalling(instrument: Instrument, points: int) -> dict[str, int]:
    """Scored answers whose plain sum is ``points`` (items filled with 3s, then the rest)."""
    answers = {}
    for item in instrument.scored_items:
        value = min(3, points)
        answers[item.key] = value
        points -= value
    assert points == 0
    return answers


@pytest.mark.parametrize(
    ("points", "expected"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
     (27, "severe")],
)
def test_phq9_band_edges(points, expected):
    assert total(PHQ9, answers_totalling(PHQ9, points)) == points
    assert band(PHQ9, points).code == expected


def test_phq9_5_to_9_is_mild_not_moderate():
    # OpenEMR's known bug labels 5–9 "moderate".
    assert {band(PHQ9, s).code for s in range(5, 10)} == {"mild"}


@pytest.mark.parametrize(
    ("points", "expected"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_gad7_band_edges(points, expected):
    assert total(GAD7, answers_totalling(GAD7, points)) == points
    assert band(GAD7, points).code == expected


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_band_outside_the_range_is_refused(instrument):
    with pytest.raises(ValueError):
        band(instrument, -1)
    with pytest.raises(ValueError):
        band(instrument, instrument.max_total + 1)


def test_total_is_the_plain_sum_of_the_scored_items_only():
    answers = {**answers_totalling(PHQ9, 12), "10": 3}
    assert total(PHQ9, answers) == 12


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
def test_a_missing_item_is_never_prorated(instrument):
    answers = answers_totalling(instrument, 8)
    del answers[instrument.scored_items[-1].key]
    with pytest.raises(IncompleteResponse):
        total(instrument, answers)
    with pytest.raises(IncompleteResponse):
        score(instrument, answers)


@pytest.mark.parametrize("bad", [4, -1, None, "2", True, 1.0])
def test_an_out_of_range_or_wrongly_typed_answer_is_refused(bad):
    answers = {**answers_totalling(PHQ9, 0), "3": bad}
    with pytest.raises(IncompleteResponse, match="phq9_3"):
        total(PHQ9, answers)


@pytest.mark.parametrize(("item9", "raised"), [(0, False), (1, True), (2, True), (3, True)])
@pytest.mark.parametrize("others", [0, 3])  # items 1–8 all 0, or all 3
def test_the_phq9_alert_is_item_9_of_1_or_more_whatever_the_total(item9, raised, others):
    answers = {**{str(n): others for n in range(1, 9)}, "9": item9, "10": 0}
    assert alert_raised(PHQ9, answers) is raised
    assert score(PHQ9, answers).alert is raised


def test_the_alert_reason_names_the_answer_in_lower_case():
    answers = {**answers_totalling(PHQ9, 0), "9": 1}
    assert alert_reason(PHQ9, answers) == (
        "PHQ-9 item 9 (thoughts of self-harm) answered several days"
    )
    answers["9"] = 3
    assert alert_reason(PHQ9, answers) == (
        "PHQ-9 item 9 (thoughts of self-harm) answered nearly every day"
    )
    assert alert_reason(PHQ9, {**answers, "9": 0}) is None


def test_an_instrument_without_an_alert_never_raises_one():
    answers = answers_totalling(GAD7, 21)
    assert alert_raised(GAD7, answers) is False
    assert alert_reason(GAD7, answers) is None


def test_the_alert_refuses_a_missing_alert_item():
    with pytest.raises(IncompleteResponse):
        alert_raised(PHQ9, {"1": 0})


def test_item_10_required_only_when_a_scored_item_is_above_0():
    item10 = PHQ9.item("10")
    zeros = answers_totalling(PHQ9, 0)
    assert item10 not in required_items(PHQ9, zeros)
    assert missing_items(PHQ9, zeros) == ()
    for item in PHQ9.scored_items:
        answers = {**zeros, item.key: 1}
        assert item10 in required_items(PHQ9, answers)
        assert missing_items(PHQ9, answers) == (item10,)
        assert missing_items(PHQ9, {**answers, "10": 0}) == ()


def test_an_invalid_scored_answer_does_not_make_item_10_required():
    answers = {**answers_totalling(PHQ9, 0), "4": 7}
    assert PHQ9.item("10") not in required_items(PHQ9, answers)
    assert missing_items(PHQ9, answers) == (PHQ9.item("4"),)


def test_every_item_is_required_when_nothing_is_answered():
    assert missing_items(GAD7, {}) == GAD7.items
    assert missing_items(PHQ9, {}) == PHQ9.scored_items


def test_invalid_items_are_answers_given_but_not_among_the_options():
    answers = {**answers_totalling(PHQ9, 0), "10": 4}
    assert invalid_items(PHQ9, answers) == (PHQ9.item("10"),)
    assert invalid_items(PHQ9, {**answers, "10": None}) == ()


def test_check_refuses_an_invalid_optional_answer_and_an_unknown_item():
    zeros = answers_totalling(PHQ9, 0)
    check(PHQ9, zeros)
    with pytest.raises(IncompleteResponse, match="phq9_difficulty"):
        check(PHQ9, {**zeros, "10": 9})
    with pytest.raises(IncompleteResponse, match="'11'"):
        check(PHQ9, {**zeros, "11": 0})
    with pytest.raises(IncompleteResponse, match="phq9_difficulty"):
        check(PHQ9, {**zeros, "1": 2})  # item 10 now required


def test_score_is_total_band_and_alert_in_one_call():
    answers = {**answers_totalling(PHQ9, 16), "9": 1, "10": 2}  # 3,3,3,3,3,1,0,0 and 1
    result = score(PHQ9, answers)
    assert result == Score(17, "moderately_severe", "PHQ-9 item 9 (thoughts of self-harm)"
                           " answered several days")
    assert result.alert is True
    assert score(GAD7, answers_totalling(GAD7, 12)) == Score(12, "moderate")
    assert score(GAD7, answers_totalling(GAD7, 12)).alert is False


def test_score_all_scores_each_response_by_instrument_key():
    responses = {"gad7": answers_totalling(GAD7, 5), "phq9": answers_totalling(PHQ9, 0)}
    scores = score_all(responses)
    assert list(scores) == ["gad7", "phq9"]
    assert scores["gad7"] == Score(5, "mild") and scores["phq9"] == Score(0, "minimal")
