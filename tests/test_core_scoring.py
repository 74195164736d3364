"""Totals and severity bands: every band edge, and never a partial or prorated total."""

from __future__ import annotations

import pytest

from screening.core.instruments import GAD7, PHQ9, Questionnaire
from screening.core.scoring import (
    IncompleteQuestionnaire,
    band,
    difficulty_required,
    self_harm_answer,
    total,
)


def answers_totalling(questionnaire: Questionnaire, score: int) -> dict[str, int]:
    """Answers whose plain sum is ``score`` (items filled with 3s, then the remainder)."""
    answers = {}
    for item in questionnaire.items:
        value = min(3, score)
        answers[questionnaire.field(item)] = value
        score -= value
    assert score == 0
    return answers


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"),
     (27, "severe")],
)
def test_phq9_band_edges(score, expected):
    assert total(PHQ9, answers_totalling(PHQ9, score)) == score
    assert band(PHQ9, score).code == expected


def test_phq9_5_to_9_is_mild_not_moderate():
    # OpenEMR's known bug labels 5–9 "moderate".
    assert {band(PHQ9, s).code for s in range(5, 10)} == {"mild"}


@pytest.mark.parametrize(
    ("score", "expected"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
     (14, "moderate"), (15, "severe"), (21, "severe")],
)
def test_gad7_band_edges(score, expected):
    assert total(GAD7, answers_totalling(GAD7, score)) == score
    assert band(GAD7, score).code == expected


@pytest.mark.parametrize("questionnaire", [PHQ9, GAD7])
def test_band_outside_the_range_is_refused(questionnaire):
    with pytest.raises(ValueError):
        band(questionnaire, -1)
    with pytest.raises(ValueError):
        band(questionnaire, questionnaire.max_total + 1)


def test_total_is_the_plain_sum_of_the_items_only():
    answers = {**answers_totalling(PHQ9, 12), "phq9_difficulty": 3, "gad7_1": 3}
    assert total(PHQ9, answers) == 12


@pytest.mark.parametrize("questionnaire", [PHQ9, GAD7])
def test_a_missing_item_is_never_prorated(questionnaire):
    answers = answers_totalling(questionnaire, 8)
    del answers[questionnaire.field(questionnaire.items[-1])]
    with pytest.raises(IncompleteQuestionnaire):
        total(questionnaire, answers)


@pytest.mark.parametrize("bad", [4, -1, None, "2", True, 1.0])
def test_an_out_of_range_or_wrongly_typed_answer_is_refused(bad):
    answers = {**answers_totalling(PHQ9, 0), "phq9_3": bad}
    with pytest.raises(IncompleteQuestionnaire):
        total(PHQ9, answers)


@pytest.mark.parametrize("value", [0, 1, 2, 3])
def test_self_harm_answer_is_item_9(value):
    assert self_harm_answer({**answers_totalling(PHQ9, 0), "phq9_9": value}) == value


def test_item_10_required_only_when_an_item_is_above_0():
    zeros = answers_totalling(PHQ9, 0)
    assert difficulty_required(zeros) is False
    for item in PHQ9.items:
        assert difficulty_required({**zeros, PHQ9.field(item): 1}) is True
    # The GAD-7 does not make PHQ-9 item 10 required.
    assert difficulty_required({**zeros, "gad7_1": 3}) is False
