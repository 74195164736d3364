"""The time, read in one place: aware UTC datetimes, and today's date for age checks.

It imports nothing else of ``screening``.
"""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Now, as an aware UTC datetime (what every stored time is)."""
    return dt.datetime.now(dt.UTC)


def local_today() -> dt.date:
    """The server's date, for a patient's age (a function so that tests can fix it)."""
    return dt.date.today()
