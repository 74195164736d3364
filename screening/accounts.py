"""Staff accounts: creating them, hashing and checking passwords (argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from .extensions import db
from .models import User

ROLES = ("clinician", "admin")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

# argon2-cffi's defaults are argon2id with RFC 9106's low-memory parameters.
_hasher = PasswordHasher()
# Verified against when the email is unknown, so both failures take the same time.
_DUMMY_HASH = _hasher.hash("not a real password, only for timing")


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def password_problem(password: str) -> str | None:
    """Why ``password`` is not acceptable, or None. Length only: no composition rules."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    return None


def hash_password(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise AccountError(problem)
    return _hasher.hash(password)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(
    email: str, password: str, role: str = "clinician", must_change_password: bool = False
) -> User:
    """Add a new account to the current transaction (the caller commits)."""
    if role not in ROLES:
        raise AccountError(f"Role must be one of: {', '.join(ROLES)}.")
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise AccountError("Give a valid email address.")
    if find_user(email) is not None:
        raise AccountError(f"An account for {email} already exists.")
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        must_change_password=must_change_password,
    )
    db.session.add(user)
    return user


def check_password(user: User | None, password: str) -> bool:
    """True when ``password`` is the user's; spends the same time when there is no user."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return user is not None


def needs_rehash(user: User) -> bool:
    return _hasher.check_needs_rehash(user.password_hash)
