"""Submission references such as ``K7QM-4TXD``: made, recognised and tidied in one place."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable

# No 0/O, 1/I/L, U: easy to read aloud over the phone. 30^8 ≈ 6.6 × 10^11 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
LENGTH = 8
#: Longer typed text is no reference, whatever it holds (a form refuses it before any look-up).
MAX_TYPED_LENGTH = 20
PATTERN = re.compile(f"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


def with_hyphen(code: str) -> str:
    """An 8-character code written as shown: ``ABCD-EFGH``."""
    return f"{code[:4]}-{code[4:]}"


def new_reference(choice: Callable[[str], str] = secrets.choice) -> str:
    """A new random reference; pass a seeded ``random.Random().choice`` for repeatable data."""
    return with_hyphen("".join(choice(ALPHABET) for _ in range(LENGTH)))


def normalise(text: str) -> str:
    """A reference as typed, tidied: surrounding spaces removed, upper case."""
    return text.strip().upper()


def is_reference(text: str) -> bool:
    """Whether ``text`` is exactly a reference (normalise typed text first)."""
    return PATTERN.fullmatch(text) is not None
