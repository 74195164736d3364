"""Counted events for rate limits that hold across worker processes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..extensions import db


class ThrottleEvent(db.Model):
    """One counted event (a failed sign-in, a new intake…) for limits that span workers."""

    __table_args__ = (Index("ix_throttle_lookup", "scope", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
