"""Date-of-birth checks, with today passed in."""

from __future__ import annotations

import datetime as dt

ADULT_AGE = 18
OLDEST_PLAUSIBLE_AGE = 120


def age_on(date_of_birth: dt.date, today: dt.date) -> int:
    """Whole years of age on ``today``."""
    had_birthday = (today.month, today.day) >= (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - (0 if had_birthday else 1)
