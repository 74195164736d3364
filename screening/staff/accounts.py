"""Staff accounts: creating them, signing in with lockout, changing passwords, deactivating."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from sqlalchemy import select

from .. import audit
from ..extensions import db
from ..models import User
from ..web import throttle
from . import passwords, sessions
from .passwords import check_password

ROLES = ("clinician", "admin")


class AccountError(ValueError):
    """A request about an account that cannot be carried out; the message says why."""


def hash_password(password: str) -> str:
    """The stored hash of an acceptable ``password``; ``AccountError`` says why one is not."""
    problem = passwords.problem(password)
    if problem:
        raise AccountError(problem)
    return passwords.hash_password(password)


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


# -- signing in and out, changing passwords ---------------------------------------------------

ACCOUNT_FAILURES = "signin_fail_account"
ADDRESS_FAILURES = "signin_fail_address"
ACCOUNT_LOCK = "signin_lock_account"
ADDRESS_LOCK = "signin_lock_address"


@dataclass(frozen=True)
class LoginLimits:
    """At ``max_failures`` failures within ``window``, sign-in is refused for ``window``."""

    max_failures: int
    window: dt.timedelta


class SignInRefused(Exception):
    """Sign-in did not happen; ``locked`` says whether it was the lock rather than the password."""

    def __init__(self, locked: bool) -> None:
        super().__init__("locked" if locked else "not recognised")
        self.locked = locked


def _account_key(email: str) -> str:
    # Hashed: the throttle table needs a fixed-length key, and need not hold addresses.
    return hashlib.sha256(normalise_email(email).encode()).hexdigest()


def is_locked(email: str, address: str, limits: LoginLimits, now: dt.datetime) -> bool:
    """True while the account named ``email`` or the client ``address`` is locked out."""
    return (
        throttle.recent_count(ACCOUNT_LOCK, _account_key(email), limits.window, now) > 0
        or throttle.recent_count(ADDRESS_LOCK, address, limits.window, now) > 0
    )


def record_failure(email: str, address: str, limits: LoginLimits, now: dt.datetime) -> bool:
    """Count one failed attempt for the account and the address; True when it locks either."""
    locked = False
    for failures, lock, key, kind in (
        (ACCOUNT_FAILURES, ACCOUNT_LOCK, _account_key(email), "account"),
        (ADDRESS_FAILURES, ADDRESS_LOCK, address, "address"),
    ):
        throttle.record(failures, key, now)
        if throttle.recent_count(failures, key, limits.window, now) >= limits.max_failures:
            throttle.record(lock, key, now)
            throttle.clear(failures, key)
            audit.record("sign_in_lockout", email=email[:254], locked=kind)
            locked = True
    return locked


def sign_in(
    email: str, password: str, address: str, limits: LoginLimits, now: dt.datetime
) -> User:
    """Check the credentials and open a session (the caller commits, on refusal too).

    Raises ``SignInRefused`` alike for an unknown email, a wrong password and an inactive
    account, so the answer never tells which accounts exist.
    """
    email = email[:254]
    if is_locked(email, address, limits, now):
        audit.record("sign_in_refused", email=email, reason="locked")
        raise SignInRefused(locked=True)
    user = find_user(email)
    if not check_password(user, password) or user is None or not user.active:
        audit.record("sign_in_failed", email=email)
        raise SignInRefused(locked=record_failure(email, address, limits, now))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    throttle.clear(ACCOUNT_FAILURES, _account_key(email))
    sessions.start_session(user, now)
    audit.record("sign_in", f"user:{user.id}", user=user)
    return user


def set_password(user: User, password: str, now: dt.datetime) -> None:
    """Replace the password and end every session of the account (the caller commits)."""
    user.password_hash = hash_password(password)
    user.must_change_password = False
    sessions.end_all_sessions(user, now)


def change_password(
    user: User,
    current: str,
    new: str,
    address: str,
    limits: LoginLimits,
    now: dt.datetime,
) -> None:
    """A signed-in user's own change: ends all their sessions, then opens a fresh one.

    A wrong current password counts as a failed sign-in, so a borrowed session cannot be
    used to guess it.
    """
    if is_locked(user.email, address, limits, now):
        raise SignInRefused(locked=True)
    if not check_password(user, current):
        audit.record("password_change_failed", f"user:{user.id}", user=user)
        raise SignInRefused(locked=record_failure(user.email, address, limits, now))
    if new == current:
        raise AccountError("Choose a password different from the current one.")
    set_password(user, new, now)
    sessions.start_session(user, now)
    audit.record("password_changed", f"user:{user.id}", user=user)


def deactivate(user: User, now: dt.datetime) -> None:
    """Stop the account from signing in and end its sessions (the caller commits)."""
    user.active = False
    sessions.end_all_sessions(user, now)
