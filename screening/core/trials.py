"""Adequate antidepressant trials in the current episode (docs/clinical.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .treatment_history import ADEQUATE_TRIAL_WEEKS, FAILED_RESPONSES


@dataclass(frozen=True)
class Trial:
    """One antidepressant the patient took: name, weeks, as prescribed, and how it helped."""

    medication: str
    weeks: int
    as_prescribed: bool
    response: str


def medication_key(name: str) -> str:
    """The name as compared: case-insensitive, surrounding spaces ignored."""
    return name.strip().casefold()


def why_not_adequate_failed(trial: Trial) -> str | None:
    """``None`` when the trial is an adequate failed trial, else the plain reason it is not."""
    if trial.weeks < ADEQUATE_TRIAL_WEEKS:
        return f"taken {trial.weeks} weeks (fewer than {ADEQUATE_TRIAL_WEEKS})"
    if not trial.as_prescribed:
        return "not taken as prescribed"
    if trial.response == "side_effects":
        return "stopped because of side effects (shown, not counted)"
    if trial.response == "helped_a_lot":
        return "helped a lot"
    if trial.response not in FAILED_RESPONSES:
        return "how much it helped was not recorded"
    return None


def is_adequate_failed(trial: Trial) -> bool:
    """Weeks ≥ 6, taken as prescribed, and it helped only a little or not at all."""
    return why_not_adequate_failed(trial) is None


def adequate_failed_trials(trials: Iterable[Trial]) -> int:
    """The number of distinct medications with at least one adequate failed trial."""
    return len({medication_key(t.medication) for t in trials if is_adequate_failed(t)})
