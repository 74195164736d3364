"""The treatment-history questions: antidepressant trials and other treatments tried."""

from __future__ import annotations

from dataclasses import dataclass

from .options import Option
from .text import N_

RESPONSE_OPTIONS = (
    Option("helped_a_lot", N_("Helped a lot")),
    Option("helped_a_little", N_("Helped a little")),
    Option("did_not_help", N_("Did not help")),
    Option("side_effects", N_("Stopped because of side effects")),
)
#: Responses that, with enough weeks taken as prescribed, make an adequate *failed* trial.
FAILED_RESPONSES = frozenset({"helped_a_little", "did_not_help"})
ADEQUATE_TRIAL_WEEKS = 6
MAX_TRIAL_WEEKS = 520
MAX_MEDICATION_NAME = 100
#: Rows always present on the page, so that the form works without JavaScript.
TRIAL_ROWS_WITHOUT_JS = 8
#: Rows accepted at most (JavaScript may add rows up to this many).
MAX_TRIAL_ROWS = 20


@dataclass(frozen=True)
class OtherTreatment:
    """A non-antidepressant treatment the patient may have tried; shown, never scored."""

    code: str
    question: str
    staff_label: str


OTHER_TREATMENTS = (
    OtherTreatment(
        "psychotherapy",
        N_("Have you had talking therapy (psychotherapy) for this depression?"),
        "Psychotherapy",
    ),
    OtherTreatment("ect", N_("Have you had electroconvulsive therapy (ECT)?"), "ECT"),
    OtherTreatment("tms", N_("Have you had transcranial magnetic stimulation (TMS)?"), "TMS"),
    OtherTreatment(
        "ketamine",
        N_("Have you had ketamine or esketamine (Spravato) treatment before?"),
        "Prior ketamine or esketamine",
    ),
)
KETAMINE_OUTCOME_OPTIONS = RESPONSE_OPTIONS
MAX_FREE_TEXT = 2000
