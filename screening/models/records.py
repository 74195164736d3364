"""The patient record: patients, their intakes (submissions) with review state, and every
questionnaire response, with clinicians' notes, status history and identity decisions.

A submission keeps what the intake alone asks (consent, treatments, health answers) and the
flags derived at submission, stored so that the dashboard can filter and order by them. The
questionnaire answers, totals and bands live in one response per instrument, whatever the
instrument, so that a repeat questionnaire is one more row.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..clock import utcnow
from ..extensions import db

if TYPE_CHECKING:
    from .staff import User

#: ``QuestionnaireResponse.occasion`` values.
INTAKE = "intake"
CHECK_IN = "check_in"


class Patient(db.Model):
    """A person, as an intake gave them: one record per intake, until a clinician decides
    that two records are the same person (:class:`PatientLink`)."""

    __table_args__ = (
        # Possible matches (core.identity): the same date of birth with the same email or
        # the same phone number.
        Index("ix_patient_dob_email", "date_of_birth", "email_key"),
        Index("ix_patient_dob_phone", "date_of_birth", "phone_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    date_of_birth: Mapped[dt.date]
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str] = mapped_column(String(40))
    contact_method: Mapped[str] = mapped_column(String(10))
    # The email and phone number as compared (core.identity); None when there is nothing to
    # compare (a phone number of fewer than 7 digits).
    email_key: Mapped[str | None] = mapped_column(String(254))
    phone_key: Mapped[str | None] = mapped_column(String(15))

    submissions: Mapped[list[Submission]] = relationship(
        back_populates="patient", order_by="Submission.submitted_at"
    )
    responses: Mapped[list[QuestionnaireResponse]] = relationship(
        back_populates="patient", order_by="QuestionnaireResponse.completed_at"
    )

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Submission(db.Model):
    """An intake episode: consent, treatments tried, health answers, the flags with their
    reasons and rule set, and its review (status, notes, urgent acknowledgement)."""

    __table_args__ = (
        # The dashboard's default order: urgent-and-unacknowledged first, then newest (the id
        # breaks ties, and lets PostgreSQL read a page's ids from the index alone).
        Index("ix_submission_queue", "awaiting_ack", "submitted_at", "id"),
        # "New likely fits" (counted on every dashboard page) and status + fit filters, from
        # the index alone; the id too, so that PostgreSQL finds the matching ids there when
        # they are joined to their scores to be sorted (SQLite keeps it in every index).
        Index("ix_submission_status_fit", "review_status", "fit", "submitted_at", "id"),
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
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    consented_at: Mapped[dt.datetime]
    #: The language the patient answered in (a BCP 47 tag such as ``en`` or ``es``).
    language: Mapped[str] = mapped_column(String(10), default="en")
    # Lower-cased "first last email reference", searched by the dashboard: the patient's
    # name and email as this intake gave them.
    search_text: Mapped[str] = mapped_column(String(520))

    trials: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    other_treatments: Mapped[dict[str, Any]] = mapped_column(JSON)
    safety: Mapped[dict[str, bool]] = mapped_column(JSON)

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

    patient: Mapped[Patient] = relationship(back_populates="submissions")
    responses: Mapped[list[QuestionnaireResponse]] = relationship(
        back_populates="submission", cascade="all, delete-orphan",
        order_by="QuestionnaireResponse.id",
    )
    acknowledged_by: Mapped[User | None] = relationship(foreign_keys=[acknowledged_by_id])
    notes: Mapped[list[Note]] = relationship(
        back_populates="submission", order_by="Note.created_at", cascade="all, delete-orphan"
    )
    status_changes: Mapped[list[StatusChange]] = relationship(
        back_populates="submission",
        order_by="StatusChange.changed_at",
        cascade="all, delete-orphan",
    )

    def response(self, instrument: str) -> QuestionnaireResponse | None:
        """This intake's response to ``instrument`` (a key such as ``phq9``), if any."""
        return next((r for r in self.responses if r.instrument == instrument), None)


class QuestionnaireResponse(db.Model):
    """One questionnaire answered on one occasion: the answers keyed by item, the total and
    band as scored then, the language it was answered in, and what it was part of."""

    __tablename__ = "questionnaire_response"
    __table_args__ = (
        # An intake asks each instrument once.
        UniqueConstraint("submission_id", "instrument"),
        # A patient's scores over time, one instrument at a time.
        Index("ix_response_patient_course", "patient_id", "instrument", "completed_at"),
        # The dashboard sorts by a total through a join on (submission_id, instrument): with
        # the total in the index, each look-up reads the index alone (bench/PROFILING.md).
        Index("ix_response_submission_total", "submission_id", "instrument", "total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    #: The intake this response was part of (None for a later check-in).
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submission.id"))
    #: ``intake`` or ``check_in``.
    occasion: Mapped[str] = mapped_column(String(10))
    instrument: Mapped[str] = mapped_column(String(20))
    instrument_version: Mapped[str] = mapped_column(String(10))
    #: ``{item key: answer value}``, e.g. ``{"1": 2, …, "10": 1}``.
    answers: Mapped[dict[str, int]] = mapped_column(JSON)
    total: Mapped[int]
    band: Mapped[str] = mapped_column(String(20))
    #: The instrument's alert rule was met (PHQ-9 item 9 answered 1 or more).
    urgent: Mapped[bool]
    language: Mapped[str] = mapped_column(String(10), default="en")
    completed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="responses")
    submission: Mapped[Submission | None] = relationship(back_populates="responses")


class PatientLink(db.Model):
    """A clinician's decision about two patient records that look alike: the same person
    (``same``: the later record is shown with the earlier one) or not (``different``: the
    notice is not shown again). Undone by setting ``undone_at``; never deleted, except with
    the records it names."""

    __tablename__ = "patient_link"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The later record.
    patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    #: The earlier record.
    other_patient_id: Mapped[int] = mapped_column(
        ForeignKey("patient.id", ondelete="CASCADE"), index=True
    )
    decision: Mapped[str] = mapped_column(String(10))
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    undone_at: Mapped[dt.datetime | None]

    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    undone_by: Mapped[User | None] = relationship(foreign_keys=[undone_by_id])


class StatusChange(db.Model):
    """A move of a submission from one review status to another: who, when."""

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
