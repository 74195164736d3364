"""Coded answer options of the intake's plain questions: yes/no, and how to be contacted."""

from __future__ import annotations

from dataclasses import dataclass

from .text import N_


@dataclass(frozen=True)
class Option:
    """A coded answer option whose stored value is a short string code."""

    code: str
    text: str


YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))

CONTACT_METHODS = (
    Option("email", N_("Email")),
    Option("phone", N_("Phone call")),
    Option("text", N_("Text message")),
)
