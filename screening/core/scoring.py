"""Totals, bands, alerts and required items of any instrument, from its data alone.

Answers are keyed by item key (``{"1": 2, …, "10": 1}``), one instrument at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .instruments import INSTRUMENTS, Band, Instrument, Item, Required


class IncompleteResponse(ValueError):
    """An item missing or out of range where a whole response is needed: never prorate."""


@dataclass(frozen=True)
class Score:
    """What one complete response scores: its total, band code and alert."""

    total: int
    band: str
    #: The alert's staff words when it is raised, else None.
    alert_reason: str | None = None

    @property
    def alert(self) -> bool:
        return self.alert_reason is not None


def is_valid(item: Item, value: Any) -> bool:
    """Whether ``value`` is one of the item's answers (``True`` and ``1.0`` are not)."""
    return type(value) is int and value in item.answers.values


def total(instrument: Instrument, answers: Mapping[str, Any]) -> int:
    """The plain sum of the scored items; refuses a partial or out-of-range set of answers."""
    values = []
    for item in instrument.scored_items:
        value = answers.get(item.key)
        if not is_valid(item, value):
            raise IncompleteResponse(f"{instrument.field(item)} is missing or invalid")
        values.append(value)
    return sum(values)


def band(instrument: Instrument, score: int) -> Band:
    """The severity band that ``score`` falls in."""
    for candidate in instrument.bands:
        if candidate.low <= score <= candidate.high:
            return candidate
    raise ValueError(f"{score} is outside {instrument.bands[0].low}–{instrument.max_total}")


def alert_raised(instrument: Instrument, answers: Mapping[str, Any]) -> bool:
    """Whether the instrument's alert item is at or above its minimum (never without a rule)."""
    rule = instrument.alert
    if rule is None:
        return False
    item = instrument.item(rule.item_key)
    value = answers.get(item.key)
    if not is_valid(item, value):
        raise IncompleteResponse(f"{instrument.field(item)} is missing or invalid")
    return value >= rule.minimum


def alert_reason(instrument: Instrument, answers: Mapping[str, Any]) -> str | None:
    """The alert's staff words naming the answer given, or None when it is not raised."""
    rule = instrument.alert
    if rule is None or not alert_raised(instrument, answers):
        return None
    chosen = instrument.item(rule.item_key).answers.choice(answers[rule.item_key])
    return rule.reason.format(answer=chosen.text.lower())


def required_items(instrument: Instrument, answers: Mapping[str, Any]) -> tuple[Item, ...]:
    """The items these answers make required: always-required ones, and the
    required-when-a-problem-is-reported ones once any scored item is above 0."""
    any_above_0 = any(
        is_valid(item, answers.get(item.key)) and answers[item.key] > 0
        for item in instrument.scored_items
    )
    return tuple(
        item
        for item in instrument.items
        if item.required is Required.ALWAYS
        or (item.required is Required.WHEN_ANY_SCORED_ITEM_ABOVE_0 and any_above_0)
    )


def missing_items(instrument: Instrument, answers: Mapping[str, Any]) -> tuple[Item, ...]:
    """The required items without a valid answer."""
    return tuple(
        item for item in required_items(instrument, answers)
        if not is_valid(item, answers.get(item.key))
    )


def invalid_items(instrument: Instrument, answers: Mapping[str, Any]) -> tuple[Item, ...]:
    """The items given an answer (not None) that is not one of their options."""
    return tuple(
        item for item in instrument.items
        if answers.get(item.key) is not None and not is_valid(item, answers[item.key])
    )


def check(instrument: Instrument, answers: Mapping[str, Any]) -> None:
    """Refuse an incomplete or invalid response, or one with answers to unknown items."""
    known = {item.key for item in instrument.items}
    unknown = sorted(set(answers) - known)
    wrong = missing_items(instrument, answers) + invalid_items(instrument, answers)
    if unknown or wrong:
        names = sorted({instrument.field(item) for item in wrong}) + [
            f"{instrument.key} item {key!r}" for key in unknown
        ]
        raise IncompleteResponse(f"{', '.join(names)}: missing, invalid or unknown")


def score(instrument: Instrument, answers: Mapping[str, Any]) -> Score:
    """Check a whole response, then its total, band and alert."""
    check(instrument, answers)
    value = total(instrument, answers)
    reason = alert_reason(instrument, answers)
    return Score(value, band(instrument, value).code, reason)


def score_all(
    responses: Mapping[str, Mapping[str, Any]],
    instruments: Mapping[str, Instrument] = INSTRUMENTS,
) -> dict[str, Score]:
    """``score`` of each response, keyed like ``responses`` by instrument key."""
    return {key: score(instruments[key], answers) for key, answers in responses.items()}
