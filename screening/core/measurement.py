"""Measurement over a course of treatment (docs/clinical.md, rule set ``mbc-v1``).

The intake's response is the baseline; each later response of the same instrument is
compared with it. These are measurement-based-care conventions, not diagnoses. Item-9
urgency is the instrument's alert (``scoring.score``), the same at every response.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from .instruments import ChangeRules, Instrument

RULESET = "mbc-v1"
RESPONDING = "responding"
IN_REMISSION = "in remission"
WORSE_THAN_AT_INTAKE = "worse than at intake"


@dataclass(frozen=True)
class Measurement:
    """One response compared with the baseline; the booleans are None for the baseline."""

    total: int
    baseline: int
    change_from_baseline: int
    #: Rounded to one decimal, halves away from zero; None when the baseline is 0.
    percent_change: Decimal | None
    response: bool | None
    remission: bool | None
    deterioration: bool | None
    #: Shown to staff, not exported.
    reliable_improvement: bool | None
    #: Staff words for what holds: "responding", "in remission", "worse than at intake".
    labels: tuple[str, ...] = ()
    #: The numbers behind each convention that holds, by its name (e.g. "deterioration").
    reasons: dict[str, str] = field(default_factory=dict)

    @property
    def is_baseline(self) -> bool:
        return self.response is None


def percent_change(change: int, baseline: int) -> Decimal | None:
    """``change ÷ baseline × 100`` to one decimal, rounded half away from zero, exactly.

    Integer arithmetic on the exact ratio, as ``decimal.ROUND_HALF_UP`` would round it, so
    neither float error nor banker's rounding can move a half (−12.25 is −12.3).
    """
    if baseline == 0:
        return None
    tenths, remainder = divmod(abs(change) * 1000, baseline)  # totals are never negative
    if 2 * remainder >= baseline:
        tenths += 1
    return Decimal(tenths if change >= 0 else -tenths).scaleb(-1)


def _rules(instrument: Instrument) -> ChangeRules:
    if instrument.change is None:
        raise ValueError(f"{instrument.name} has no rules for change over time")
    return instrument.change


def baseline(instrument: Instrument, total: int) -> Measurement:
    """The intake's own row: no change, and no conventions to apply (all None)."""
    _rules(instrument)
    return Measurement(total, total, 0, percent_change(0, total), None, None, None, None)


def measure(instrument: Instrument, baseline_total: int, total: int) -> Measurement:
    """A later response of ``instrument`` compared with the intake's ``baseline_total``."""
    rules = _rules(instrument)
    name = instrument.name
    change = total - baseline_total
    reliable = rules.reliable_change
    holds = {
        # Integers only: total ≤ 50 % of the baseline, with a baseline above 0.
        "response": baseline_total > 0 and 2 * total <= baseline_total,
        "remission": total < rules.remission_below,
        "deterioration": change >= reliable,
        "reliable_improvement": -change >= reliable,
    }
    words = {
        "response": f"{name} total {total}, at most half of {baseline_total} at intake",
        "remission": f"{name} total {total} (under {rules.remission_below})",
        "deterioration": (
            f"{name} total {total}, {change} more than {baseline_total} at intake"
            f" ({reliable} or more)"
        ),
        "reliable_improvement": (
            f"{name} total {total}, {-change} less than {baseline_total} at intake"
            f" ({reliable} or more)"
        ),
    }
    labels = (
        (RESPONDING, holds["response"]),
        (IN_REMISSION, holds["remission"]),
        (WORSE_THAN_AT_INTAKE, holds["deterioration"]),
    )
    return Measurement(
        total=total,
        baseline=baseline_total,
        change_from_baseline=change,
        percent_change=percent_change(change, baseline_total),
        response=holds["response"],
        remission=holds["remission"],
        deterioration=holds["deterioration"],
        reliable_improvement=holds["reliable_improvement"],
        labels=tuple(label for label, held in labels if held),
        reasons={rule: words[rule] for rule, held in holds.items() if held},
    )


def measure_series(instrument: Instrument, totals: Sequence[int]) -> list[Measurement]:
    """One measurement per response, oldest first; the first total is the intake's baseline."""
    if not totals:
        return []
    first = totals[0]
    return [baseline(instrument, first)] + [measure(instrument, first, t) for t in totals[1:]]
