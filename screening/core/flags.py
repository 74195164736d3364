"""The flag rules of CLINICAL.md, rule set ``v1``: fit, urgent, needs medical review.

Computed once at submission and stored with ``RULESET`` so a past flag can be explained and
re-computed. The words are for staff only and never say "eligible" or "diagnosed".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .instruments import CAUTION, CONTRAINDICATION, GAD7, PHQ9, SAFETY_QUESTIONS
from .scoring import band, self_harm_answer, total
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
    """Everything the rules derive from one set of answers."""

    phq9_total: int
    phq9_severity: str
    gad7_total: int
    gad7_severity: str
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
    answers: Mapping[str, int], trials: Iterable[Trial], safety: Mapping[str, bool]
) -> Assessment:
    """Score the questionnaires and apply rule set v1."""
    phq9_total = total(PHQ9, answers)
    gad7_total = total(GAD7, answers)
    failed = adequate_failed_trials(trials)
    contraindications = tuple(
        q.code for q in SAFETY_QUESTIONS if q.kind == CONTRAINDICATION and safety[q.code]
    )
    cautions = tuple(q.code for q in SAFETY_QUESTIONS if q.kind == CAUTION and safety[q.code])
    item9 = self_harm_answer(answers)

    phq9_high = phq9_total >= SCORE_THRESHOLD
    gad7_high = gad7_total >= SCORE_THRESHOLD
    phq9_words = f"PHQ-9 total {phq9_total} ({'10 or more' if phq9_high else 'under 10'})"
    gad7_words = f"GAD-7 total {gad7_total} ({'10 or more' if gad7_high else 'under 10'})"
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

    urgent = item9 >= 1
    urgent_reasons = (
        [f"PHQ-9 item 9 (thoughts of self-harm) answered {PHQ9.choice(item9).text.lower()}"]
        if urgent
        else []
    )
    review_reasons = _reported(contraindications + cautions)

    return Assessment(
        phq9_total=phq9_total,
        phq9_severity=band(PHQ9, phq9_total).code,
        gad7_total=gad7_total,
        gad7_severity=band(GAD7, gad7_total).code,
        adequate_failed_trials=failed,
        contraindications=contraindications,
        cautions=cautions,
        fit=fit,
        urgent=urgent,
        needs_medical_review=bool(review_reasons),
        reasons={"fit": fit_reasons, "urgent": urgent_reasons, "medical_review": review_reasons},
    )
