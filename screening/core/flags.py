"""The flag rules of docs/clinical.md, rule set ``v1``: fit, urgent, needs medical review.

Computed once at submission and stored with ``RULESET`` so a past flag can be explained and
re-computed. The words are for staff only and never say "eligible" or "diagnosed". The fit
rules name the PHQ-9 and GAD-7; urgent is any instrument's alert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .health_screen import CAUTION, CONTRAINDICATION, SAFETY_QUESTIONS
from .instruments import GAD7, PHQ9
from .scoring import Score
from .trials import Trial, adequate_failed_trials

RULESET = "v1"
SCORE_THRESHOLD = 10
FAILED_TRIALS_THRESHOLD = 2

LIKELY_FIT = "likely_fit"
POSSIBLE_FIT = "possible_fit"
UNLIKELY_FIT = "unlikely_fit"
FIT_LABELS = {
    LIKELY_FIT: "likely fit for a consultation",
    POSSIBLE_FIT: "possible fit",
    UNLIKELY_FIT: "unlikely fit at this time",
}


@dataclass(frozen=True)
class Assessment:
    """The flags and their reasons (each response's own total and band are in its Score)."""

    adequate_failed_trials: int
    contraindications: tuple[str, ...]
    cautions: tuple[str, ...]
    fit: str
    urgent: bool
    needs_medical_review: bool
    reasons: dict[str, list[str]] = field(default_factory=dict)
    ruleset: str = RULESET


def _reported(codes: Iterable[str]) -> list[str]:
    labels = {q.code: q.staff_label for q in SAFETY_QUESTIONS}
    return [f"Reported: {labels[code]}" for code in codes]


def assess(
    scores: Mapping[str, Score], trials: Iterable[Trial], safety: Mapping[str, bool]
) -> Assessment:
    """Apply rule set v1 to the scored responses (by instrument key), trials and screen.

    ``scores`` must hold the PHQ-9 and GAD-7; every alert raised in it makes the result urgent.
    """
    missing = {PHQ9.key, GAD7.key} - set(scores)
    if missing:
        raise ValueError(f"rule set {RULESET} needs the {' and '.join(sorted(missing))} scores")
    phq9_total = scores[PHQ9.key].total
    gad7_total = scores[GAD7.key].total
    failed = adequate_failed_trials(trials)
    contraindications = tuple(
        q.code for q in SAFETY_QUESTIONS if q.kind == CONTRAINDICATION and safety[q.code]
    )
    cautions = tuple(q.code for q in SAFETY_QUESTIONS if q.kind == CAUTION and safety[q.code])

    phq9_high = phq9_total >= SCORE_THRESHOLD
    gad7_high = gad7_total >= SCORE_THRESHOLD
    phq9_words = f"{PHQ9.name} total {phq9_total} ({'10 or more' if phq9_high else 'under 10'})"
    gad7_words = f"{GAD7.name} total {gad7_total} ({'10 or more' if gad7_high else 'under 10'})"
    trials_words = (
        f"{failed} adequate antidepressant trial{'' if failed == 1 else 's'} without enough"
        f" response ({'2 or more' if failed >= FAILED_TRIALS_THRESHOLD else 'fewer than 2'})"
    )

    if phq9_high and failed >= FAILED_TRIALS_THRESHOLD and not contraindications:
        fit = LIKELY_FIT
        fit_reasons = [phq9_words, trials_words, "No contraindication reported"]
    elif phq9_high or gad7_high:
        fit = POSSIBLE_FIT
        fit_reasons = [w for w, high in ((phq9_words, phq9_high), (gad7_words, gad7_high)) if high]
        if phq9_high and failed < FAILED_TRIALS_THRESHOLD:
            fit_reasons.append(trials_words)
        if phq9_high and contraindications:
            fit_reasons += _reported(contraindications)
    else:
        fit = UNLIKELY_FIT
        fit_reasons = [phq9_words, gad7_words]

    urgent_reasons = [s.alert_reason for s in scores.values() if s.alert_reason is not None]
    review_reasons = _reported(contraindications + cautions)

    return Assessment(
        adequate_failed_trials=failed,
        contraindications=contraindications,
        cautions=cautions,
        fit=fit,
        urgent=bool(urgent_reasons),
        needs_medical_review=bool(review_reasons),
        reasons={"fit": fit_reasons, "urgent": urgent_reasons, "medical_review": review_reasons},
    )
