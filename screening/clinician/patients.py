"""Patient records: possible matches between them, and a clinician's decisions about them.

Each intake makes a patient record of its own. Two records with the same date of birth and
the same email, or the same date of birth and the same phone number (``core.identity``), are
*possibly* one person: staff see them side by side and decide. Deciding "the same person"
shows the later record with the earlier one (its intakes and responses on one page); "not the
same person" stops the notice. A decision is never automatic (family members share phones
and email addresses), is audited, and can be undone; nothing is merged or deleted.

Linked records form a group around one record (its "main" record, the earliest): a record
is linked only to a main record, so a group is one main record and the records linked to it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from .. import audit
from ..extensions import db
from ..models import Patient, PatientLink, User

SAME = "same"
DIFFERENT = "different"
DECISIONS = (SAME, DIFFERENT)


class LinkError(ValueError):
    """A decision that cannot be recorded; the message says why, for the clinician."""


@dataclass(frozen=True)
class PossibleMatch:
    """Another record that may be the same person, and what the two share."""

    other: Patient
    shared: tuple[str, ...]  # "date of birth", "email", "phone number"

    @property
    def reason(self) -> str:
        """The shared details in words: "the same date of birth and email"."""
        return "the same " + " and ".join(self.shared)


def active_links(patient_ids: list[int]) -> list[PatientLink]:
    """The decisions in force that name any of ``patient_ids``."""
    return list(db.session.scalars(
        select(PatientLink).where(
            PatientLink.undone_at.is_(None),
            or_(PatientLink.patient_id.in_(patient_ids),
                PatientLink.other_patient_id.in_(patient_ids)),
        ).order_by(PatientLink.decided_at)
    ))


def main_record(patient: Patient) -> Patient:
    """The record ``patient`` is shown with: the one it is linked to, else itself."""
    for link in active_links([patient.id]):
        if link.decision == SAME and link.patient_id == patient.id:
            found = db.session.get(Patient, link.other_patient_id)
            if found is not None:
                return found
    return patient


def group(main: Patient) -> list[Patient]:
    """``main`` and every record linked to it, earliest first."""
    linked = [
        link.patient_id for link in active_links([main.id])
        if link.decision == SAME and link.other_patient_id == main.id
    ]
    others = list(db.session.scalars(select(Patient).where(Patient.id.in_(linked))))
    return sorted([main, *others], key=lambda p: (p.created_at, p.id))


def possible_matches(patient: Patient) -> list[PossibleMatch]:
    """Records that may be the same person as ``patient`` and that no decision covers yet."""
    members = group(main_record(patient))
    member_ids = [p.id for p in members]
    keys = [p for p in members if p.email_key or p.phone_key]
    if not keys:
        return []
    conditions = []
    for person in keys:
        same_key = []
        if person.email_key:
            same_key.append(Patient.email_key == person.email_key)
        if person.phone_key:
            same_key.append(Patient.phone_key == person.phone_key)
        conditions.append(and_(Patient.date_of_birth == person.date_of_birth, or_(*same_key)))
    candidates = db.session.scalars(
        select(Patient).where(or_(*conditions), Patient.id.not_in(member_ids))
        .order_by(Patient.created_at, Patient.id)
    ).all()
    if not candidates:
        return []
    decided = {
        frozenset((link.patient_id, link.other_patient_id))
        for link in active_links([c.id for c in candidates])
    }
    found = []
    for candidate in candidates:
        if any(frozenset((candidate.id, m)) in decided for m in member_ids):
            continue
        if main_record(candidate).id in member_ids:
            continue  # already in this group through its main record
        found.append(PossibleMatch(candidate, _shared(candidate, members)))
    return found


def _shared(candidate: Patient, members: list[Patient]) -> tuple[str, ...]:
    shared = ["date of birth"]
    if any(m.email_key and m.email_key == candidate.email_key for m in members):
        shared.append("email")
    if any(m.phone_key and m.phone_key == candidate.phone_key for m in members):
        shared.append("phone number")
    return tuple(shared)


def decide(
    patient: Patient, other: Patient, decision: str, user: User, now: dt.datetime
) -> PatientLink:
    """Record that two records are (``same``) or are not (``different``) one person (the
    caller commits). "The same" links the later record's group to the earlier main record."""
    if decision not in DECISIONS:
        raise LinkError("Choose whether these records are the same person.")
    first, second = sorted((main_record(patient), main_record(other)),
                           key=lambda p: (p.created_at, p.id))
    if first.id == second.id:
        raise LinkError("These records are already shown together.")
    if decision == SAME and any(
        link.decision == SAME and link.other_patient_id == second.id
        for link in active_links([second.id])
    ):
        raise LinkError(
            "Other records are linked to the later one. Undo those links first, or link each"
            " record to the earlier one."
        )
    if decision == DIFFERENT:
        first, second = sorted((patient, other), key=lambda p: (p.created_at, p.id))
    link = PatientLink(
        patient_id=second.id, other_patient_id=first.id, decision=decision,
        decided_by_id=user.id, decided_at=now,
    )
    db.session.add(link)
    db.session.flush()
    audit.record(
        "link_patients" if decision == SAME else "mark_patients_different",
        f"patient:{second.id}", user=user, other=f"patient:{first.id}", link_id=link.id,
    )
    return link


def undo(link: PatientLink, user: User, now: dt.datetime) -> None:
    """Take a decision back (the caller commits): the records show apart again, or the
    possible-match notice comes back."""
    if link.undone_at is not None:
        raise LinkError("This decision has already been undone.")
    link.undone_at = now
    link.undone_by_id = user.id
    audit.record(
        "unlink_patients" if link.decision == SAME else "unmark_patients_different",
        f"patient:{link.patient_id}", user=user, other=f"patient:{link.other_patient_id}",
        link_id=link.id,
    )
