"""Checks of typed text shared by every form, patients' and staff's.

Refused: C0 and C1 control characters, DEL, line and paragraph separators and bidirectional
overrides. They are invisible, can make a name display reversed, and PostgreSQL cannot even
store NUL. Free text (notes, "anything else") may keep its tabs and line breaks.
"""

from __future__ import annotations

import re
from typing import Any

from wtforms import Field, ValidationError

_INVISIBLE = r"\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_FORBIDDEN = re.compile(rf"[\x00-\x1f{_INVISIBLE}]")
MULTI_LINE_FORBIDDEN = re.compile(rf"[\x00-\x08\x0b\x0c\x0e-\x1f{_INVISIBLE}]")


def has_forbidden_characters(text: str, multiline: bool = False) -> bool:
    """True when ``text`` holds a character refused in a single-line (or free-text) answer."""
    return bool((MULTI_LINE_FORBIDDEN if multiline else SINGLE_LINE_FORBIDDEN).search(text))


class NoControlCharacters:
    """A WTForms validator refusing the characters above, with the form's own message."""

    def __init__(self, message: Any, multiline: bool = False) -> None:
        self.message = message
        self.multiline = multiline

    def __call__(self, form: Any, field: Field) -> None:
        if isinstance(field.data, str) and has_forbidden_characters(field.data, self.multiline):
            raise ValidationError(self.message)
