"""Secret random tokens (drafts, staff sessions, links) and the hash under which they are stored.

Only the hash is kept, so that a copy of the database does not hold working links or sessions.
"""

from __future__ import annotations

import hashlib
import secrets

#: 32 random bytes: 256 bits, well above the 128 a link or a session needs.
TOKEN_BYTES = 32


def new_token() -> str:
    """A new URL-safe secret token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The stored form of ``token``: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()
