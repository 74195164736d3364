"""Server-side drafts: each step is saved when the patient continues."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from flask import current_app
from sqlalchemy import delete, select

from ..extensions import db
from ..models import Draft

# 32 random bytes: 256 bits, well above the 128 the resume link needs.
TOKEN_BYTES = 32


def hash_token(token: str) -> str:
    """Drafts are looked up by a hash so a database leak does not leak working resume links."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_draft(now: dt.datetime) -> tuple[Draft, str]:
    """A new, empty draft and its secret token (added to the current transaction)."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    draft = Draft(
        token_hash=hash_token(token), data={}, created_at=now, updated_at=now,
        expires_at=now + current_app.config["DRAFT_TTL"],
    )
    db.session.add(draft)
    return draft, token


def find_draft(token: str | None, now: dt.datetime) -> Draft | None:
    """The unexpired draft for ``token``, if any."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(Draft).where(Draft.token_hash == hash_token(token), Draft.expires_at > now)
    )


def save_step(draft: Draft, step: str, values: dict[str, Any], now: dt.datetime) -> None:
    """Store one step's answers; each save keeps the draft for another full period."""
    draft.data = {**draft.data, step: values}
    draft.updated_at = now
    draft.expires_at = now + current_app.config["DRAFT_TTL"]


def purge_expired(now: dt.datetime) -> int:
    """Delete drafts past their expiry; returns how many."""
    result = db.session.execute(delete(Draft).where(Draft.expires_at <= now))
    return result.rowcount or 0
