"""The clinic's time zone (``TIMEZONE``, an IANA name): every time staff see is shown in it.

Times are stored, compared and exported in UTC; only what is shown changes. Staff see
``2026-03-08 01:30 MST``, in a ``<time>`` element whose ``datetime`` is the UTC instant, and
their date filters are whole days in the clinic's zone. How long something has waited is the
difference of two UTC instants, so it stays exact across daylight-saving changes.
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, current_app
from markupsafe import Markup

log = logging.getLogger(__name__)

EXTENSION_KEY = "screening.clinic_zone"
DEFAULT = "UTC"


def configure(app: Flask) -> None:
    """Check ``TIMEZONE`` (refusing an unknown name), warn when it is unset, and give it to
    Flask-Babel for the dates patients see (call before ``babel.init_app``)."""
    name = app.config.get("TIMEZONE")
    if not name:
        log.warning(
            "SCREENING_TIMEZONE is not set: staff see times in UTC. Set it to the clinic's"
            " time zone, e.g. America/Denver."
        )
        name = DEFAULT
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"SCREENING_TIMEZONE={name!r} is not a time zone: use an IANA name such as"
            " America/Denver or America/New_York."
        ) from None
    app.extensions[EXTENSION_KEY] = zone
    app.config["BABEL_DEFAULT_TIMEZONE"] = name


def init_app(app: Flask) -> None:
    app.add_template_filter(staff_time)
    app.add_template_global(zone_name)


def zone() -> ZoneInfo:
    found: ZoneInfo = current_app.extensions[EXTENSION_KEY]
    return found


def zone_name() -> str:
    """The zone's IANA name, e.g. ``America/Denver``."""
    return zone().key


def local(at: dt.datetime) -> dt.datetime:
    """An aware instant as the clinic's wall-clock time."""
    if at.tzinfo is None:
        raise ValueError("naive datetime given; use an aware UTC datetime")
    return at.astimezone(zone())


def staff_time(at: dt.datetime | None, seconds: bool = False) -> Markup:
    """``at`` for staff: clinic time with the zone's abbreviation, marked up with the instant
    in UTC, e.g. ``<time datetime="2026-03-08T08:30:00Z">2026-03-08 01:30 MST</time>``."""
    if at is None:
        return Markup("")
    shown = local(at)
    pattern = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    instant = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup('<time datetime="{}">{} {}</time>').format(
        instant, shown.strftime(pattern), shown.tzname()
    )


def day_start(day: dt.date) -> dt.datetime:
    """The UTC instant at which ``day`` begins in the clinic's zone (for date filters)."""
    return dt.datetime.combine(day, dt.time(), zone()).astimezone(dt.UTC)


def day_end(day: dt.date) -> dt.datetime:
    """The UTC instant at which the day after ``day`` begins: an exclusive upper bound."""
    return day_start(day + dt.timedelta(days=1))
