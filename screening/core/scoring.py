"""Totals and severity bands of the PHQ-9 and GAD-7 (CLINICAL.md)."""

from __future__ import annotations

from collections.abc import Mapping

from .instruments import PHQ9, PHQ9_SELF_HARM_ITEM, Band, Questionnaire


class IncompleteQuestionnaire(ValueError):
    """Raised when a total is asked for with an item missing or out of range: never prorate."""


def total(questionnaire: Questionnaire, answers: Mapping[str, int]) -> int:
    """The plain sum of every item; refuses a partial or out-of-range set of answers."""
    valid = {c.value for c in questionnaire.choices}
    values = []
    for item in questionnaire.items:
        value = answers.get(questionnaire.field(item))
        # ``type(...) is int`` refuses True and 1.0, which compare equal to 1.
        if type(value) is not int or value not in valid:
            raise IncompleteQuestionnaire(f"{questionnaire.field(item)} is missing or invalid")
        values.append(value)
    return sum(values)


def band(questionnaire: Questionnaire, score: int) -> Band:
    """The severity band that ``score`` falls in."""
    for candidate in questionnaire.bands:
        if candidate.low <= score <= candidate.high:
            return candidate
    raise ValueError(f"{score} is outside 0–{questionnaire.max_total}")


def self_harm_answer(answers: Mapping[str, int]) -> int:
    """The answer to PHQ-9 item 9 (0–3)."""
    return answers[PHQ9.field(PHQ9_SELF_HARM_ITEM)]


def difficulty_required(answers: Mapping[str, int]) -> bool:
    """Item 10 is required when any of PHQ-9 items 1–9 is above 0."""
    return any(answers.get(PHQ9.field(item), 0) > 0 for item in PHQ9.items)
