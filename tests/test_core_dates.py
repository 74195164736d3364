"""Whole years of age, with today passed in."""

from __future__ import annotations

import datetime as dt

import pytest

from screening.core.dates import ADULT_AGE, age_on


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (dt.date(2008, 6, 14), dt.date(2026, 6, 14), 18),  # exactly 18 today
        (dt.date(2008, 6, 15), dt.date(2026, 6, 14), 17),  # 18 tomorrow
        (dt.date(2008, 6, 13), dt.date(2026, 6, 14), 18),
        (dt.date(1984, 12, 31), dt.date(2026, 1, 1), 41),
        (dt.date(2008, 2, 29), dt.date(2026, 2, 28), 17),  # leap-day birthday not yet reached
        (dt.date(2008, 2, 29), dt.date(2026, 3, 1), 18),
        (dt.date(2026, 1, 1), dt.date(2026, 1, 1), 0),
    ],
)
def test_age_on(born, today, age):
    assert age_on(born, today) == age


def test_adults_are_18_and_over():
    assert ADULT_AGE == 18
