"""Submission references, e.g. ``K7QM-4TXD``: easy to read aloud, hard to guess."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence

# No 0/O, 1/I/L, U: easy to read aloud over the phone. 30^8 ≈ 6.6 × 10^11 codes.
ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
LENGTH = 8
#: Longer typed text is no reference, whatever it holds (it is refused before any look-up).
MAX_TYPED_LENGTH = 20


def new_reference(choice: Callable[[Sequence[str]], str] = secrets.choice) -> str:
    """A new random reference; ``choice`` picks each character (a seeded one for demos)."""
    code = "".join(choice(ALPHABET) for _ in range(LENGTH))
    return f"{code[:4]}-{code[4:]}"


def normalise(text: str) -> str:
    """A reference as typed, compared as stored: surrounding spaces dropped, upper case."""
    return text.strip().upper()


def is_reference(text: str) -> bool:
    """True when ``text`` has the form of a reference (``normalise`` it first)."""
    code = text.replace("-", "", 1)
    return len(text) == LENGTH + 1 and text[4] == "-" and all(c in ALPHABET for c in code)
