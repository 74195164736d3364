"""Adequate failed antidepressant trials, condition by condition (docs/clinical.md)."""

from __future__ import annotations

import pytest

from screening.core.trials import (
    Trial,
    adequate_failed_trials,
    is_adequate_failed,
    why_not_adequate_failed,
)


def trial(medication="Sertraline", weeks=8, as_prescribed=True, response="did_not_help"):
    return Trial(medication, weeks, as_prescribed, response)


@pytest.mark.parametrize(("weeks", "counted"), [(0, False), (5, False), (6, True), (520, True)])
def test_six_weeks_is_the_minimum(weeks, counted):
    assert is_adequate_failed(trial(weeks=weeks)) is counted


def test_not_taken_as_prescribed_is_not_counted():
    assert not is_adequate_failed(trial(as_prescribed=False))
    assert why_not_adequate_failed(trial(as_prescribed=False)) == "not taken as prescribed"


@pytest.mark.parametrize(
    ("response", "counted"),
    [("helped_a_little", True), ("did_not_help", True), ("helped_a_lot", False),
     ("side_effects", False)],
)
def test_only_little_or_no_help_counts(response, counted):
    assert is_adequate_failed(trial(response=response)) is counted


def test_reasons_are_plain_words():
    assert why_not_adequate_failed(trial(weeks=5)) == "taken 5 weeks (fewer than 6)"
    assert why_not_adequate_failed(trial(response="helped_a_lot")) == "helped a lot"
    assert "side effects" in why_not_adequate_failed(trial(response="side_effects"))
    assert why_not_adequate_failed(trial()) is None


def test_an_unknown_response_is_not_counted_and_not_called_helped_a_lot():
    assert not is_adequate_failed(trial(response="made_it_worse"))
    assert why_not_adequate_failed(trial(response="made_it_worse")) != "helped a lot"


def test_distinct_medications_are_counted():
    assert adequate_failed_trials([]) == 0
    assert adequate_failed_trials([trial("Sertraline")]) == 1
    assert adequate_failed_trials([trial("Sertraline"), trial("Escitalopram")]) == 2


def test_the_same_medication_twice_counts_once_whatever_the_case_and_spaces():
    trials = [trial("Sertraline"), trial("  SERTRALINE "), trial("sertraline\t")]
    assert adequate_failed_trials(trials) == 1


def test_a_medication_counts_if_any_one_of_its_trials_is_adequate():
    trials = [trial("Bupropion", weeks=3), trial("bupropion", weeks=12)]
    assert adequate_failed_trials(trials) == 1


def test_side_effects_and_helped_a_lot_trials_are_not_counted():
    trials = [
        trial("Sertraline", response="side_effects"),
        trial("Escitalopram", response="helped_a_lot"),
        trial("Venlafaxine", weeks=5),
        trial("Bupropion", as_prescribed=False),
    ]
    assert adequate_failed_trials(trials) == 0
