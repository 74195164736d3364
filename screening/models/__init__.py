"""Database models, one module per part of the record.

It may import ``screening.core``, ``screening.clock`` and ``screening.extensions``.
"""

from __future__ import annotations

from .audit import AuditEvent
from .drafts import Draft
from .records import (
    CHECK_IN,
    INTAKE,
    Note,
    Patient,
    PatientLink,
    QuestionnaireResponse,
    StatusChange,
    Submission,
)
from .staff import User, UserSession
from .throttle import ThrottleEvent

# Tables that triggers keep in step with ``submission``, made by migrations, beyond what the
# models describe (Alembic's autogenerate leaves them alone: ``migrations/env.py``).
#: SQLite's full-text index of ``Submission.search_text`` (FTS5, trigram tokenizer).
SEARCH_TABLE = "submission_fts"
#: One row: how many submissions there are (``submissions``).
TALLY_TABLE = "submission_tally"

__all__ = [
    "CHECK_IN", "INTAKE", "SEARCH_TABLE", "TALLY_TABLE", "AuditEvent", "Draft", "Note",
    "Patient", "PatientLink", "QuestionnaireResponse", "StatusChange", "Submission",
    "ThrottleEvent", "User", "UserSession",
]
