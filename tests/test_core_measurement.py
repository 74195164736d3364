"""Measurement over time, rule set mbc-v1: every threshold at, one below and one above."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest

from screening.core.instruments import GAD7, PHQ9, Instrument
from screening.core.measurement import (
    RULESET,
    Measurement,
    baseline,
    measure,
    measure_series,
    percent_change,
)


def test_the_rule_set_is_mbc_v1():
    assert RULESET == "mbc-v1"


@pytest.mark.parametrize(
    ("change", "base", "expected"),
    [
        (0, 12, "0.0"),
        (-4, 12, "-33.3"),  # −1/3
        (-8, 12, "-66.7"),  # −2/3
        (4, 12, "33.3"),
        (8, 12, "66.7"),
        (1, 3, "33.3"),
        (2, 3, "66.7"),
        (-1, 8, "-12.5"),
        (-49, 400, "-12.3"),  # −12.25: a half rounds away from zero
        (49, 400, "12.3"),  # 12.25
        (1, 16, "6.3"),  # 6.25
        (-1, 16, "-6.3"),
        (1, 80, "1.3"),  # 1.25, which float round() makes 1.2
        (-27, 27, "-100.0"),
        (26, 1, "2600.0"),
        (-1, 1, "-100.0"),
    ],
)
def test_percent_change_rounds_exact_halves_away_from_zero(change, base, expected):
    result = percent_change(change, base)
    assert result == Decimal(expected) and str(result) == expected


def test_percent_change_is_blank_when_the_baseline_is_0():
    assert percent_change(0, 0) is None
    assert percent_change(5, 0) is None


def test_percent_change_matches_decimal_round_half_up_on_the_exact_ratio_everywhere():
    for base in range(1, 28):
        for later in range(28):
            exact = Fraction(later - base, base) * 100
            with localcontext(prec=60):  # far beyond any digit that could decide the tenth
                ratio = Decimal(exact.numerator) / Decimal(exact.denominator)
            assert percent_change(later - base, base) == ratio.quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            ), (later, base)


def test_the_baseline_row_has_no_conventions():
    row = baseline(PHQ9, 14)
    assert row == Measurement(14, 14, 0, Decimal("0.0"), None, None, None, None)
    assert row.is_baseline and row.labels == () and row.reasons == {}
    assert baseline(PHQ9, 0).percent_change is None
    assert baseline(PHQ9, 3).remission is None  # not "in remission" at the intake


@pytest.mark.parametrize(
    ("base", "later", "responding"),
    [
        (12, 6, True),  # exactly half
        (12, 7, False),  # one above half
        (12, 5, True),
        (11, 5, True),  # 5 ≤ 5.5
        (11, 6, False),
        (1, 0, True),  # baseline 1: 0 is at most half
        (1, 1, False),
        (0, 0, False),  # baseline 0: never a response
        (2, 1, True),
    ],
)
def test_response_is_at_most_half_the_baseline_with_a_baseline_above_0(base, later, responding):
    row = measure(PHQ9, base, later)
    assert row.response is responding
    assert ("responding" in row.labels) is responding


@pytest.mark.parametrize("instrument", [PHQ9, GAD7])
@pytest.mark.parametrize(("later", "remitted"), [(4, True), (5, False), (6, False), (0, True)])
def test_remission_is_a_total_under_5(instrument, later, remitted):
    row = measure(instrument, 15, later)
    assert row.remission is remitted
    assert ("in remission" in row.labels) is remitted


@pytest.mark.parametrize(
    ("instrument", "rise", "worse"),
    [(PHQ9, 5, False), (PHQ9, 6, True), (PHQ9, 7, True),
     (GAD7, 3, False), (GAD7, 4, True), (GAD7, 5, True)],
)
def test_deterioration_is_the_reliable_change_or_more_above_baseline(instrument, rise, worse):
    row = measure(instrument, 8, 8 + rise)
    assert row.deterioration is worse
    assert ("worse than at intake" in row.labels) is worse
    assert row.reliable_improvement is False


def test_deterioration_gives_the_numbers_as_its_reason():
    row = measure(PHQ9, 11, 17)
    assert row.reasons["deterioration"] == "PHQ-9 total 17, 6 more than 11 at intake (6 or more)"
    assert measure(GAD7, 0, 4).reasons == {
        "remission": "GAD-7 total 4 (under 5)",
        "deterioration": "GAD-7 total 4, 4 more than 0 at intake (4 or more)",
    }


@pytest.mark.parametrize(
    ("instrument", "fall", "improved"),
    [(PHQ9, 5, False), (PHQ9, 6, True), (PHQ9, 7, True),
     (GAD7, 3, False), (GAD7, 4, True), (GAD7, 5, True)],
)
def test_reliable_improvement_is_a_fall_of_the_reliable_change_or_more(instrument, fall, improved):
    row = measure(instrument, 20, 20 - fall)
    assert row.reliable_improvement is improved
    assert row.deterioration is False
    assert ("reliable_improvement" in row.reasons) is improved


def test_reliable_improvement_reason_and_no_staff_label_of_its_own():
    row = measure(PHQ9, 20, 14)
    assert row.reasons == {
        "reliable_improvement": "PHQ-9 total 14, 6 less than 20 at intake (6 or more)"
    }
    assert row.labels == ()


def test_all_three_staff_words_in_order_when_all_hold():
    row = measure(PHQ9, 12, 4)
    assert row.labels == ("responding", "in remission")
    assert row.reasons["response"] == "PHQ-9 total 4, at most half of 12 at intake"
    assert measure(PHQ9, 0, 6).labels == ("worse than at intake",)


def test_a_series_is_one_measurement_per_response_against_the_first():
    rows = measure_series(GAD7, [12, 8, 6, 16, 3])
    assert [r.change_from_baseline for r in rows] == [0, -4, -6, 4, -9]
    assert [r.percent_change for r in rows] == [
        Decimal("0.0"), Decimal("-33.3"), Decimal("-50.0"), Decimal("33.3"), Decimal("-75.0"),
    ]
    assert [r.response for r in rows] == [None, False, True, False, True]
    assert [r.remission for r in rows] == [None, False, False, False, True]
    assert [r.deterioration for r in rows] == [None, False, False, True, False]
    assert [r.reliable_improvement for r in rows] == [None, True, True, False, True]
    assert all(r.baseline == 12 for r in rows)
    assert [r.is_baseline for r in rows] == [True, False, False, False, False]


def test_an_empty_series_and_a_baseline_alone():
    assert measure_series(PHQ9, []) == []
    assert measure_series(PHQ9, [9]) == [baseline(PHQ9, 9)]


def test_an_instrument_without_change_rules_is_refused():
    plain = Instrument(
        key="plain", version="1", name="Plain", title="Plain", step_title="Plain", stem="",
        panel_loinc="X", total_loinc="Y", items=GAD7.items, bands=GAD7.bands,
    )
    with pytest.raises(ValueError, match="Plain"):
        measure(plain, 5, 6)
    with pytest.raises(ValueError):
        measure_series(plain, [5])
