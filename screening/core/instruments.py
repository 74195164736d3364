"""One definition of every question the intake asks, with its LOINC codes.

Forms, templates, scoring, the review page, the CSV columns and the FHIR export are all
generated from these definitions: adding a question is one edit here.
Wording and codes follow ``CLINICAL.md`` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

from .text import N_


@dataclass(frozen=True)
class Choice:
    """One answer option: the stored value, the words shown, and its LOINC answer code."""

    value: int
    text: str
    loinc: str


@dataclass(frozen=True)
class Item:
    """One question of a questionnaire."""

    number: int
    text: str
    loinc: str


@dataclass(frozen=True)
class Band:
    """A severity band: totals from ``low`` to ``high`` inclusive."""

    low: int
    high: int
    code: str
    label: str


@dataclass(frozen=True)
class Questionnaire:
    """A scored questionnaire (PHQ-9 or GAD-7)."""

    key: str
    title: str
    stem: str
    panel_loinc: str
    total_loinc: str
    items: tuple[Item, ...]
    choices: tuple[Choice, ...]
    bands: tuple[Band, ...]

    @property
    def max_total(self) -> int:
        return len(self.items) * max(c.value for c in self.choices)

    def field(self, item: Item) -> str:
        """The form and storage name of an item, e.g. ``phq9_9``."""
        return f"{self.key}_{item.number}"

    def choice(self, value: int) -> Choice:
        return next(c for c in self.choices if c.value == value)


FREQUENCY = (
    Choice(0, N_("Not at all"), "LA6568-5"),
    Choice(1, N_("Several days"), "LA6569-3"),
    Choice(2, N_("More than half the days"), "LA6570-1"),
    Choice(3, N_("Nearly every day"), "LA6571-9"),
)

PHQ9 = Questionnaire(
    key="phq9",
    title=N_("Mood (PHQ-9)"),
    stem=N_(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    panel_loinc="44249-1",
    total_loinc="44261-6",
    items=(
        Item(1, N_("Little interest or pleasure in doing things"), "44250-9"),
        Item(2, N_("Feeling down, depressed, or hopeless"), "44255-8"),
        Item(3, N_("Trouble falling or staying asleep, or sleeping too much"), "44259-0"),
        Item(4, N_("Feeling tired or having little energy"), "44254-1"),
        Item(5, N_("Poor appetite or overeating"), "44251-7"),
        Item(
            6,
            N_(
                "Feeling bad about yourself — or that you are a failure or have let yourself"
                " or your family down"
            ),
            "44258-2",
        ),
        Item(
            7,
            N_(
                "Trouble concentrating on things, such as reading the newspaper or watching"
                " television"
            ),
            "44252-5",
        ),
        Item(
            8,
            N_(
                "Moving or speaking so slowly that other people could have noticed? Or the"
                " opposite — being so fidgety or restless that you have been moving around a"
                " lot more than usual"
            ),
            "44253-3",
        ),
        Item(
            9,
            N_("Thoughts that you would be better off dead or of hurting yourself in some way"),
            "44260-8",
        ),
    ),
    choices=FREQUENCY,
    bands=(
        Band(0, 4, "minimal", "minimal"),
        Band(5, 9, "mild", "mild"),
        Band(10, 14, "moderate", "moderate"),
        Band(15, 19, "moderately_severe", "moderately severe"),
        Band(20, 27, "severe", "severe"),
    ),
)

#: PHQ-9 item 9, the self-harm item: any answer of 1 or more is urgent.
PHQ9_SELF_HARM_ITEM = PHQ9.items[8]

#: PHQ-9 item 10, functional difficulty: asked with the PHQ-9, never scored.
PHQ9_DIFFICULTY = Item(
    10,
    N_(
        "If you checked off any problems, how difficult have these problems made it for you to"
        " do your work, take care of things at home, or get along with other people?"
    ),
    "69722-7",
)
PHQ9_DIFFICULTY_FIELD = "phq9_difficulty"
# The codes of the last two answers are not in numeric order; CLINICAL.md notes it too.
DIFFICULTY_CHOICES = (
    Choice(0, N_("Not difficult at all"), "LA6572-7"),
    Choice(1, N_("Somewhat difficult"), "LA6573-5"),
    Choice(2, N_("Very difficult"), "LA6575-0"),
    Choice(3, N_("Extremely difficult"), "LA6574-3"),
)

GAD7 = Questionnaire(
    key="gad7",
    title=N_("Anxiety (GAD-7)"),
    stem=N_("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    panel_loinc="69737-5",
    total_loinc="70274-6",
    items=(
        Item(1, N_("Feeling nervous, anxious, or on edge"), "69725-0"),
        Item(2, N_("Not being able to stop or control worrying"), "68509-9"),
        Item(3, N_("Worrying too much about different things"), "69733-4"),
        Item(4, N_("Trouble relaxing"), "69734-2"),
        Item(5, N_("Being so restless that it is hard to sit still"), "69735-9"),
        Item(6, N_("Becoming easily annoyed or irritable"), "69689-8"),
        Item(7, N_("Feeling afraid, as if something awful might happen"), "69736-7"),
    ),
    choices=FREQUENCY,
    bands=(
        Band(0, 4, "minimal", "minimal"),
        Band(5, 9, "mild", "mild"),
        Band(10, 14, "moderate", "moderate"),
        Band(15, 21, "severe", "severe"),
    ),
)

QUESTIONNAIRES = (PHQ9, GAD7)


# --- Treatment history -------------------------------------------------------------------

@dataclass(frozen=True)
class Option:
    """A coded answer option whose stored value is a short string code."""

    code: str
    text: str


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

YES_NO = (Option("yes", N_("Yes")), Option("no", N_("No")))


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


# --- Health and safety screen ------------------------------------------------------------

@dataclass(frozen=True)
class SafetyQuestion:
    """A yes/no health question; a yes adds ``code`` to contraindications or cautions."""

    code: str
    kind: str  # "contraindication" or "caution"
    question: str
    staff_label: str


CONTRAINDICATION = "contraindication"
CAUTION = "caution"

SAFETY_QUESTIONS = (
    SafetyQuestion(
        "vascular_aneurysm", CONTRAINDICATION,
        N_("Have you ever been told you have an aneurysm (a bulging blood vessel) in your aorta,"
           " brain or elsewhere, or an arteriovenous malformation (AVM)?"),
        "an aneurysm or arteriovenous malformation",
    ),
    SafetyQuestion(
        "brain_bleed", CONTRAINDICATION,
        N_("Have you ever had bleeding in the brain (for example a hemorrhagic stroke)?"),
        "a history of bleeding in the brain",
    ),
    SafetyQuestion(
        "ketamine_allergy", CONTRAINDICATION,
        N_("Have you ever had an allergic or serious reaction to ketamine or esketamine?"),
        "an allergic or serious reaction to ketamine or esketamine",
    ),
    SafetyQuestion(
        "uncontrolled_blood_pressure", CAUTION,
        N_("Do you have high blood pressure that is not under control right now?"),
        "high blood pressure that is not under control",
    ),
    SafetyQuestion(
        "heart_disease", CAUTION,
        N_("Have you had heart disease, a heart attack, or heart failure?"),
        "heart disease, heart attack, or heart failure",
    ),
    SafetyQuestion(
        "psychosis", CAUTION,
        N_("Have you ever had psychosis — for example hearing or seeing things others do not,"
           " strong beliefs others found untrue, or a diagnosis of schizophrenia?"),
        "a history of psychosis",
    ),
    SafetyQuestion(
        "mania", CAUTION,
        N_("Have you been told you have bipolar disorder, or had times of mania (very high"
           " energy, little need for sleep, racing thoughts)?"),
        "bipolar disorder or past episodes of mania",
    ),
    SafetyQuestion(
        "substance_use", CAUTION,
        N_("Do you currently have a problem with alcohol or drug use, including ketamine?"),
        "a current problem with alcohol or drug use",
    ),
    SafetyQuestion(
        "pregnancy", CAUTION,
        N_("Are you pregnant, breastfeeding, or planning a pregnancy?"),
        "pregnant, breastfeeding, or planning a pregnancy",
    ),
    SafetyQuestion(
        "sedatives_or_stimulants", CAUTION,
        N_("Do you currently take benzodiazepines (such as lorazepam or diazepam), sleep"
           " medicines, stimulants (such as ADHD medicines) or MAOIs?"),
        "currently taking benzodiazepines, sleep medicines, stimulants or MAOIs",
    ),
)

CONTACT_METHODS = (
    Option("email", N_("Email")),
    Option("phone", N_("Phone call")),
    Option("text", N_("Text message")),
)
