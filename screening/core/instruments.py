"""The scored questionnaires ("instruments"), PHQ-9 and GAD-7, wholly as data.

Scoring, bands, required-item checks, the alert, measurement over time, the CSV columns and
the FHIR resources are all derived from an ``Instrument``: within the core, changing a
question is one edit to its ``Item``, and adding an instrument is one ``Instrument``
definition plus its entry in ``INSTRUMENTS`` (and in ``INTAKE_INSTRUMENTS`` for the intake to
ask it). Its patient-facing words still need translating, and the fit rules of
``flags.py`` use the PHQ-9 and GAD-7 only. Wording and codes follow ``docs/clinical.md`` exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from typing import Any

from .text import N_


@dataclass(frozen=True)
class Choice:
    """One answer option: the stored value, the words shown, and its LOINC answer code."""

    value: int
    text: str
    loinc: str | None = None


@dataclass(frozen=True)
class AnswerSet:
    """The answer options one or more items share."""

    key: str
    choices: tuple[Choice, ...]

    # Cached (the dataclass is frozen, so it never changes): scoring reads it for every answer.
    @cached_property
    def values(self) -> tuple[int, ...]:
        return tuple(c.value for c in self.choices)

    def choice(self, value: int) -> Choice:
        """The option stored as ``value``; ValueError when there is none."""
        for candidate in self.choices:
            if candidate.value == value and type(value) is int:
                return candidate
        raise ValueError(f"{value!r} is not an answer of {self.key}")


class Required(StrEnum):
    """When an item must be answered."""

    ALWAYS = "always"
    #: PHQ-9 item 10: asked about the problems, so needed only once one is reported.
    WHEN_ANY_SCORED_ITEM_ABOVE_0 = "when any scored item is above 0"


@dataclass(frozen=True)
class Item:
    """One question: ``key`` is stable within its instrument, ``number`` is what is shown."""

    key: str
    number: int
    text: str
    loinc: str
    answers: AnswerSet
    scored: bool = True
    required: Required = Required.ALWAYS
    #: The form and CSV name when it is not ``{instrument}_{key}`` (a legacy name).
    field: str | None = None
    hint: str | None = None
    #: What to tell a patient who left it unanswered when it is required; by default,
    #: "Choose an answer for question N."
    missing: str | None = None


@dataclass(frozen=True)
class Band:
    """A severity band: totals from ``low`` to ``high`` inclusive."""

    low: int
    high: int
    code: str
    label: str


@dataclass(frozen=True)
class Alert:
    """An answer that needs prompt clinician follow-up, whatever the total."""

    item_key: str
    minimum: int
    #: Staff words; ``{answer}`` becomes the chosen answer in lower case.
    reason: str
    #: The CSV column saying whether it was raised.
    column: str


@dataclass(frozen=True)
class ChangeRules:
    """Measurement over time (rule set ``mbc-v1``): reliable change and remission."""

    reliable_change: int
    remission_below: int


@dataclass(frozen=True)
class Instrument:
    """A scored questionnaire: its items, bands, alert and change rules."""

    key: str
    version: str
    name: str
    title: str
    step_title: str
    stem: str
    panel_loinc: str
    total_loinc: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...]
    alert: Alert | None = None
    change: ChangeRules | None = None
    # The derived tuples below are cached properties: the dataclass is frozen, so they never
    # change, and scoring reads them for every answer (bench/PROFILING.md, seeding).

    def __post_init__(self) -> None:
        # A mistake in a new definition fails on import, not in a patient's submission.
        keys = [item.key for item in self.items]
        if len(set(keys)) != len(keys) or len(set(self.fields)) != len(keys):
            raise ValueError(f"{self.key}: item keys and fields must be unique")
        if self.alert and self.alert.item_key not in keys:
            raise ValueError(f"{self.key}: the alert names no item of it")
        covered = [total for b in self.bands for total in range(b.low, b.high + 1)]
        lowest = sum(min(i.answers.values) for i in self.scored_items)
        empty = any(b.high < b.low for b in self.bands)
        if empty or covered != list(range(lowest, self.max_total + 1)):
            raise ValueError(f"{self.key}: bands must cover every total once, in order")

    @cached_property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if i.scored)

    @cached_property
    def unscored_items(self) -> tuple[Item, ...]:
        return tuple(i for i in self.items if not i.scored)

    @cached_property
    def max_total(self) -> int:
        return sum(max(i.answers.values) for i in self.scored_items)

    def item(self, key: str) -> Item:
        """The item with this key; KeyError when there is none."""
        for candidate in self.items:
            if candidate.key == key:
                return candidate
        raise KeyError(f"{self.key} has no item {key!r}")

    def field(self, item: Item) -> str:
        """The form and CSV name of an item, e.g. ``phq9_9``."""
        return item.field or f"{self.key}_{item.key}"

    @cached_property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.field(i) for i in self.items)

    def fields_to_answers(self, values_by_field: Mapping[str, Any]) -> dict[str, Any]:
        """Form-shaped values as answers keyed by item key; unanswered items left out."""
        return {
            item.key: values_by_field[name]
            for item, name in zip(self.items, self.fields, strict=True)
            if values_by_field.get(name) is not None
        }

    def answers_to_fields(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Answers keyed by item key as form-shaped values; unanswered items left out."""
        return {self.field(i): answers[i.key] for i in self.items if i.key in answers}


FREQUENCY = AnswerSet(
    "frequency",
    (
        Choice(0, N_("Not at all"), "LA6568-5"),
        Choice(1, N_("Several days"), "LA6569-3"),
        Choice(2, N_("More than half the days"), "LA6570-1"),
        Choice(3, N_("Nearly every day"), "LA6571-9"),
    ),
)
# The codes of the last two answers are not in numeric order; docs/clinical.md notes it too.
DIFFICULTY = AnswerSet(
    "difficulty",
    (
        Choice(0, N_("Not difficult at all"), "LA6572-7"),
        Choice(1, N_("Somewhat difficult"), "LA6573-5"),
        Choice(2, N_("Very difficult"), "LA6575-0"),
        Choice(3, N_("Extremely difficult"), "LA6574-3"),
    ),
)

#: The reliable-change sizes of NHS Talking Therapies, and remission below 5 (docs/clinical.md).
PHQ9_CHANGE = ChangeRules(reliable_change=6, remission_below=5)
GAD7_CHANGE = ChangeRules(reliable_change=4, remission_below=5)


def _frequency_items(*questions: tuple[str, str]) -> tuple[Item, ...]:
    return tuple(
        Item(str(number), number, text, loinc, FREQUENCY)
        for number, (text, loinc) in enumerate(questions, 1)
    )


PHQ9 = Instrument(
    key="phq9",
    version="1",
    name="PHQ-9",
    title=N_("Mood (PHQ-9)"),
    step_title=N_("How you have been feeling"),
    stem=N_(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    panel_loinc="44249-1",
    total_loinc="44261-6",
    items=(
        *_frequency_items(
            (N_("Little interest or pleasure in doing things"), "44250-9"),
            (N_("Feeling down, depressed, or hopeless"), "44255-8"),
            (N_("Trouble falling or staying asleep, or sleeping too much"), "44259-0"),
            (N_("Feeling tired or having little energy"), "44254-1"),
            (N_("Poor appetite or overeating"), "44251-7"),
            (
                N_(
                    "Feeling bad about yourself — or that you are a failure or have let yourself"
                    " or your family down"
                ),
                "44258-2",
            ),
            (
                N_(
                    "Trouble concentrating on things, such as reading the newspaper or watching"
                    " television"
                ),
                "44252-5",
            ),
            (
                N_(
                    "Moving or speaking so slowly that other people could have noticed? Or the"
                    " opposite — being so fidgety or restless that you have been moving around a"
                    " lot more than usual"
                ),
                "44253-3",
            ),
            (
                N_("Thoughts that you would be better off dead or of hurting yourself in some way"),
                "44260-8",
            ),
        ),
        Item(
            "10",
            10,
            N_(
                "If you checked off any problems, how difficult have these problems made it for"
                " you to do your work, take care of things at home, or get along with other"
                " people?"
            ),
            "69722-7",
            DIFFICULTY,
            scored=False,
            required=Required.WHEN_ANY_SCORED_ITEM_ABOVE_0,
            field="phq9_difficulty",  # the name the CSV and the forms have always used
            hint=N_("Answer this if you chose anything other than “Not at all” above."),
            missing=N_("Choose how difficult these problems have made things for you."),
        ),
    ),
    bands=(
        Band(0, 4, "minimal", "minimal"),
        Band(5, 9, "mild", "mild"),
        Band(10, 14, "moderate", "moderate"),
        Band(15, 19, "moderately_severe", "moderately severe"),
        Band(20, 27, "severe", "severe"),
    ),
    alert=Alert(
        item_key="9",
        minimum=1,
        reason="PHQ-9 item 9 (thoughts of self-harm) answered {answer}",
        column="phq9_item9_positive",
    ),
    change=PHQ9_CHANGE,
)

GAD7 = Instrument(
    key="gad7",
    version="1",
    name="GAD-7",
    title=N_("Anxiety (GAD-7)"),
    step_title=N_("Worry and anxiety"),
    stem=N_("Over the last 2 weeks, how often have you been bothered by the following problems?"),
    panel_loinc="69737-5",
    total_loinc="70274-6",
    items=_frequency_items(
        (N_("Feeling nervous, anxious, or on edge"), "69725-0"),
        (N_("Not being able to stop or control worrying"), "68509-9"),
        (N_("Worrying too much about different things"), "69733-4"),
        (N_("Trouble relaxing"), "69734-2"),
        (N_("Being so restless that it is hard to sit still"), "69735-9"),
        (N_("Becoming easily annoyed or irritable"), "69689-8"),
        (N_("Feeling afraid, as if something awful might happen"), "69736-7"),
    ),
    bands=(
        Band(0, 4, "minimal", "minimal"),
        Band(5, 9, "mild", "mild"),
        Band(10, 14, "moderate", "moderate"),
        Band(15, 21, "severe", "severe"),
    ),
    change=GAD7_CHANGE,
)

#: Every instrument the app knows, by key.
INSTRUMENTS: dict[str, Instrument] = {i.key: i for i in (PHQ9, GAD7)}
#: The instruments the intake asks, in order (the default; the app may configure its own).
INTAKE_INSTRUMENTS: tuple[str, ...] = ("phq9", "gad7")


def by_key(key: str) -> Instrument:
    """The instrument with this key; KeyError naming it when there is none."""
    try:
        return INSTRUMENTS[key]
    except KeyError:
        raise KeyError(f"no instrument {key!r}") from None
