"""The append-only audit trail. Records who did what to which record — never patient answers.

It may import ``screening.clock``, ``screening.extensions``, ``screening.models`` and
``screening.web``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import has_request_context
from flask_login import current_user

from .clock import utcnow
from .extensions import db
from .models import AuditEvent
from .web.clientaddr import client_address


def record(
    action: str,
    target: str | None = None,
    *,
    user: Any = None,
    email: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits with its change).

    ``user`` defaults to the signed-in user; ``email`` names the account for events such as a
    failed sign-in where nobody is signed in. ``details`` must hold no patient data: filters,
    counts, status names, never answers or names.
    """
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    event = AuditEvent(
        at=utcnow(),
        user_id=getattr(user, "id", None),
        user_email=getattr(user, "email", None) or email,
        action=action,
        target=target,
        # None from the command line, where there is no client.
        client_addr=client_address() if has_request_context() else None,
        details=details,
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class Actor:
    """A staff member as plain values, for an event recorded after the request's database
    session has closed (a streamed export's end), when the User object can't be read."""

    id: int
    email: str
