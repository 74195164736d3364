"""Database models. Derived flags are stored at submission so the dashboard can index them.

It may import ``screening.core``, ``screening.clock`` and ``screening.extensions``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

# Tables that triggers keep in step with ``submission``, made by migrations, beyond what the
# models describe (Alembic's autogenerate leaves them alone: ``migrations/env.py``).
#: SQLite's full-text index of ``Submission.search_text`` (FTS5, trigram tokenizer).
SEARCH_TABLE = "submission_fts"
#: One row: how many submissions there are (``submissions``).
TALLY_TABLE = "submission_tally"


class Draft(db.Model):
    """An intake in progress, saved step by step; deleted at submission or after 7 days."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)


class Submission(db.Model):
    """A submitted intake: raw answers, scores, flags with reasons, and review state."""

    __table_args__ = (
        # The dashboard's default order: urgent-and-unacknowledged first, then newest (the id
        # breaks ties, and lets PostgreSQL read a page's ids from the index alone).
        Index("ix_submission_queue", "awaiting_ack", "submitted_at", "id"),
        # "New likely fits" (counted on every dashboard page) and status + fit filters, from
        # the index alone: at 100,000 rows, 75 ms of row lookups become 5 ms (BENCHMARKS.md);
        # and those filters sorted by PHQ-9 total (triage) read the first 50 entries.
        Index("ix_submission_status_fit_phq9", "review_status", "fit", "phq9_total"),
        # A search word of one or two letters scans this narrow index, not the wide rows.
        Index("ix_submission_search", "search_text", "id"),
        # Longer words are looked up by trigram: this index on PostgreSQL; on SQLite, the
        # FTS5 table SEARCH_TABLE, which the model cannot describe (see its migration).
        Index(
            "ix_submission_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    # One submission per draft, whatever the number of clicks or concurrent requests.
    draft_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    consented_at: Mapped[dt.datetime]

    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date]
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    contact_method: Mapped[str] = mapped_column(String(10))
    # Lower-cased "first last email reference", searched by the dashboard.
    search_text: Mapped[str] = mapped_column(String(520))

    answers: Mapped[dict[str, int]] = mapped_column(JSON)  # phq9_1…phq9_9, gad7_1…gad7_7
    phq9_difficulty: Mapped[int | None]
    trials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    other_treatments: Mapped[dict[str, Any]] = mapped_column(JSON)
    safety: Mapped[dict[str, bool]] = mapped_column(JSON)

    phq9_total: Mapped[int] = mapped_column(index=True)
    phq9_severity: Mapped[str] = mapped_column(String(20))
    phq9_item9: Mapped[int]
    gad7_total: Mapped[int] = mapped_column(index=True)
    gad7_severity: Mapped[str] = mapped_column(String(20))
    adequate_failed_trials: Mapped[int]
    contraindications: Mapped[list[str]] = mapped_column(JSON)
    cautions: Mapped[list[str]] = mapped_column(JSON)
    fit: Mapped[str] = mapped_column(String(20), index=True)
    urgent: Mapped[bool] = mapped_column(index=True)
    needs_medical_review: Mapped[bool] = mapped_column(index=True)
    reasons: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    ruleset: Mapped[str] = mapped_column(String(10))

    review_status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    awaiting_ack: Mapped[bool] = mapped_column(default=False)
    acknowledged_at: Mapped[dt.datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(Text)
    # "sent", "failed" or None (no alert needed or mail not configured).
    alert_status: Mapped[str | None] = mapped_column(String(10))

    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    notes: Mapped[list[Note]] = relationship(
        back_populates="submission", order_by="Note.created_at", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="submission",
        order_by="StatusChange.changed_at",
        cascade="all, delete-orphan",
    )


class User(UserMixin, db.Model):
    """A clinic staff account (role ``clinician`` or ``admin``)."""

    # Not a column: the token of the session this request came with (see screening.access).
    session_token = None

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default="clinician")
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def get_id(self) -> str | None:
        """Flask-Login keeps the session token, not the user id, so one session can end."""
        return self.session_token


class UserSession(db.Model):
    """A signed-in session; the cookie holds only its random token, checked every request."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship()


class ThrottleEvent(db.Model):
    """One counted event (a failed sign-in, a new intake…) for limits that span workers."""

    __table_args__ = (Index("ix_throttle_lookup", "scope", "key", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class StatusChange(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="status_changes")
    user: Mapped[User] = relationship()


class Note(db.Model):
    """A clinician's note on a submission: append-only."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    body: Mapped[str] = mapped_column(Text)

    submission: Mapped[Submission] = relationship(back_populates="notes")
    user: Mapped[User] = relationship()


class AuditEvent(db.Model):
    """Append-only audit trail: who did what to which record, from where. No patient answers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Kept as written so the trail still reads after an account is renamed.
    user_email: Mapped[str | None] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str | None] = mapped_column(String(64))
    client_addr: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
