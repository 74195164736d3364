"""Counters for rate limits, kept in the database so every worker process sees the same."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select

from ..extensions import db
from ..models import ThrottleEvent

#: Events older than this are never counted by any limit and may be deleted.
KEEP_FOR = dt.timedelta(days=1)


def recent_count(scope: str, key: str, window: dt.timedelta, now: dt.datetime) -> int:
    """How many ``scope`` events for ``key`` happened within ``window`` before ``now``."""
    return db.session.scalar(
        select(func.count(ThrottleEvent.id)).where(
            ThrottleEvent.scope == scope,
            ThrottleEvent.key == key,
            ThrottleEvent.created_at > now - window,
        )
    ) or 0


def record(scope: str, key: str, now: dt.datetime) -> None:
    """Count one event (added to the current transaction)."""
    db.session.add(ThrottleEvent(scope=scope, key=key, created_at=now))


def clear(scope: str, key: str) -> None:
    """Forget the events of one key, e.g. failed sign-ins after a successful one."""
    db.session.execute(
        delete(ThrottleEvent).where(ThrottleEvent.scope == scope, ThrottleEvent.key == key)
    )


def purge(now: dt.datetime) -> int:
    """Delete events too old to count; returns how many."""
    result = db.session.execute(
        delete(ThrottleEvent).where(ThrottleEvent.created_at < now - KEEP_FOR)
    )
    return result.rowcount or 0
