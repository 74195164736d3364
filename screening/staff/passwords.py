"""Staff passwords: what is acceptable, and hashing with argon2id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

if TYPE_CHECKING:
    from ..models import User

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


def problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None. Length only: no composition rules."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    return None


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (check it with :func:`problem` first)."""
    return _hasher.hash(password)


def check_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's; spends the same time when there is no user."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)
