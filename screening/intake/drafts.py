"""Server-side drafts: each step is saved when the patient continues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app
from sqlalchemy import bindparam, delete, select
from werkzeug.datastructures import MultiDict

from ..extensions import db
from ..models import Draft
from ..web import throttle
from ..web.tokens import hash_token, new_token

if TYPE_CHECKING:
    from .steps import Steps

#: Where a draft keeps what was typed on a step left unfinished by "Save and finish later"
#: (or by a change of language).
PARTIAL = "_partial"
#: Where a draft keeps the language it was last answered in: a resumed draft comes back in it.
LANGUAGE = "_language"
#: The longest value kept from an unfinished step (the longest answer allowed is 2,000).
MAX_KEPT_VALUE = 2000

RESUME_SCOPE = "resume"
RESUME_ADDRESS_SCOPE = "resume_address"
#: Wrong dates of birth allowed from one address (over all links) per RESUME_WINDOW. Each link
#: also allows RESUME_MAX_FAILURES; this bounds someone trying many links, and the throttle
#: rows they could make us write.
RESUME_MAX_FAILURES_PER_ADDRESS = 20


class TooManyTries(Exception):
    """Too many wrong dates of birth for this link, or from this address, lately."""


def create_draft(now: dt.datetime) -> tuple[Draft, str]:
    """A new, empty draft and its secret token (added to the current transaction)."""
    token = new_token()
    draft = Draft(
        token_hash=hash_token(token), data={}, created_at=now, updated_at=now,
        expires_at=now + current_app.config["DRAFT_TTL"],
    )
    db.session.add(draft)
    return draft, token


def find_draft(token: str | None, now: dt.datetime, *, lock: bool = False) -> Draft | None:
    """The unexpired draft for ``token``, if any; ``lock`` holds its row until commit.

    Lock before changing a draft: two tabs saving different steps at once would otherwise
    each write back the draft as they read it, and one step would be lost. (SQLite's
    BEGIN IMMEDIATE already serialises writers; PostgreSQL needs FOR UPDATE.)
    """
    if not token or len(token) > 100:
        return None
    query = _FIND_FOR_UPDATE if lock else _FIND
    return db.session.scalar(query, {"token_hash": hash_token(token), "now": now})


# Built once: every patient request looks its draft up, and building the statement (and its
# cache key) each time was a tenth of the request's SQLAlchemy work.
_FIND = select(Draft).where(
    Draft.token_hash == bindparam("token_hash"), Draft.expires_at > bindparam("now")
)
_FIND_FOR_UPDATE = _FIND.with_for_update()


def save_step(
    draft: Draft, step: str, values: dict[str, Any], now: dt.datetime, language: str
) -> None:
    """Store one step's answers, and the language they were given in; each save keeps the
    draft for another full period."""
    data = {**draft.data, step: values, LANGUAGE: language}
    if data.get(PARTIAL, {}).get("step") == step:
        del data[PARTIAL]  # the finished answers replace what was typed before
    draft.data = data
    _touch(draft, now)


def save_partial(
    draft: Draft, step: str, fields: Collection[str], formdata: Mapping[str, str],
    now: dt.datetime, language: str,
) -> None:
    """Keep what was typed on an unfinished step (and the language), without counting the
    step as answered.

    Only inputs belonging to the step's ``fields`` are kept (``trials-0-weeks`` belongs to
    ``trials``), each cut to ``MAX_KEPT_VALUE`` characters, so a request cannot store
    arbitrary data. Nothing here is validated: it is shown back to the patient, never used.
    """
    kept = {
        name: value.replace("\x00", "")[:MAX_KEPT_VALUE]
        for name, value in formdata.items()
        if name.split("-", 1)[0] in fields and name != "csrf_token"
    }
    draft.data = {**draft.data, PARTIAL: {"step": step, "input": kept}, LANGUAGE: language}
    _touch(draft, now)


def language_of(draft: Draft) -> str | None:
    """The language the draft was last answered in (None for a draft saved before we kept
    it)."""
    found = draft.data.get(LANGUAGE)
    return found if isinstance(found, str) else None


def partial_input(draft: Draft | None, step: str) -> MultiDict[str, str] | None:
    """What was typed on ``step`` when it was left unfinished, as form data; else None."""
    partial = draft.data.get(PARTIAL, {}) if draft else {}
    return MultiDict(partial["input"]) if partial.get("step") == step else None


def _touch(draft: Draft, now: dt.datetime) -> None:
    draft.updated_at = now
    draft.expires_at = now + current_app.config["DRAFT_TTL"]


def purge_expired(now: dt.datetime) -> int:
    """Delete drafts past their expiry; returns how many."""
    result = db.session.execute(delete(Draft).where(Draft.expires_at <= now))
    return result.rowcount or 0


def unlock(
    token: str, date_of_birth: dt.date, steps: Steps, address: str, now: dt.datetime
) -> Draft | None:
    """The draft behind a resume link, if ``date_of_birth`` is the one saved with it.

    A wrong date (or an unknown or expired link: the answer is the same, so a link's
    existence is never revealed) is counted against both the link and the address (the
    caller commits the count); ``TooManyTries`` is raised once either has too many, even for
    the right date.
    """
    config = current_app.config
    window = config["RESUME_WINDOW"]
    key = hash_token(token)  # the link itself is never stored, not even in the throttle
    if (
        throttle.recent_count(RESUME_SCOPE, key, window, now) >= config["RESUME_MAX_FAILURES"]
        or throttle.recent_count(RESUME_ADDRESS_SCOPE, address, window, now)
        >= RESUME_MAX_FAILURES_PER_ADDRESS
    ):
        raise TooManyTries
    draft = find_draft(token, now)
    saved = steps.date_of_birth(draft.data) if draft else None
    if draft is not None and saved == date_of_birth.isoformat():
        return draft
    throttle.record(RESUME_SCOPE, key, now)
    throttle.record(RESUME_ADDRESS_SCOPE, address, now)
    return None
