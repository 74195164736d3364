"""Keys for spotting a possible earlier submission by the same person: email and phone.

A shared key is a possible match for staff to check, never proof of the same person.
"""

from __future__ import annotations

ASCII_DIGITS = frozenset("0123456789")
#: Shorter than this is not a phone number anyone could be reached on (the intake asks 7–15).
MIN_PHONE_DIGITS = 7
#: A North American number written with its country code 1: 1 then 10 digits.
NANP_WITH_COUNTRY_CODE = 11


def email_key(email: str) -> str | None:
    """The address as compared: surrounding spaces ignored, case folded; None when empty."""
    key = email.strip().casefold()
    return key or None


def phone_key(phone: str) -> str | None:
    """The number's digits; +1 dropped from an 11-digit number; None below 7 digits.

    So "+1 (555) 010-4477" and "555 010 4477" share the key "5550104477".
    """
    # ASCII only: str.isdigit() would also take "²" and other scripts' digits.
    digits = "".join(c for c in phone if c in ASCII_DIGITS)
    if len(digits) == NANP_WITH_COUNTRY_CODE and digits.startswith("1"):
        digits = digits[1:]
    return digits if len(digits) >= MIN_PHONE_DIGITS else None
