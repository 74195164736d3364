"""``flask demo seed``: fill the database with synthetic submissions for demos and benchmarks.

Every row is made up (names from an obviously fake list, example.com addresses, 555-01xx
phone numbers) and scored by the real ``screening.core.flags.assess``, so its flags, totals
and reasons are exactly what the intake would have stored for those answers.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.questionnaires``, ``screening.web``, ``screening.staff`` and
``screening.intake``: it is a command at the top, beside the app factory.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import insert, select

from .clock import utcnow
from .core import health_screen, references
from .core.flags import assess
from .core.instruments import Instrument
from .core.scoring import required_items, score
from .core.trials import Trial
from .extensions import db
from .intake.submission import flag_columns, patient_columns, response_columns, search_text
from .models import (
    INTAKE,
    Note,
    Patient,
    QuestionnaireResponse,
    StatusChange,
    Submission,
    User,
)
from .questionnaires import intake_instruments
from .staff.accounts import hash_password
from .web import database

BATCH_SIZE = 5_000
MAX_COUNT = 1_000_000
#: Seeded submissions are spread over this many days before ``now``.
SPREAD_DAYS = 365
#: Urgent submissions newer than this are left awaiting acknowledgement; older ones are done.
UNACKNOWLEDGED_WITHIN = dt.timedelta(days=3)

DEMO_STAFF = ("demo.clinician@example.com", "demo.lead@example.com")

FIRST_NAMES = (
    "Alex", "Sam", "Jordan", "Taylor", "Casey", "Robin", "Morgan", "Jamie", "Riley", "Avery",
    "Quinn", "Drew", "Charlie", "Skyler", "Harper", "Rowan", "Emerson", "Reese", "Finley", "Kai",
)
# Surnames nobody has, so a seeded row is never mistaken for a real patient.
LAST_NAMES = (
    "Testperson", "Demoson", "Samplewood", "Fakeley", "Placeholder", "Exampleton", "Mockford",
    "Dummyfield", "Fictionby", "Synthetica", "Notreal", "Pretendley",
)
MEDICATIONS = (
    "Sertraline", "Escitalopram", "Fluoxetine", "Citalopram", "Paroxetine", "Venlafaxine",
    "Duloxetine", "Bupropion", "Mirtazapine", "Vortioxetine", "Desvenlafaxine", "Trazodone",
)
NOTE_TEXTS = (
    "Demo note: left a voicemail, will try again tomorrow.",
    "Demo note: spoke with patient, consultation offered.",
    "Demo note: asked primary care for medication history.",
    "Demo note: blood pressure to be checked before any consultation.",
    "Demo note: patient prefers email contact.",
)
ACK_NOTE = "Demo acknowledgement: called the patient, safety plan discussed, crisis line given."
# Each status with the path of changes that leads to it from "new".
STATUS_PATHS: dict[str, tuple[str, ...]] = {
    "new": (),
    "in_review": ("in_review",),
    "contacted": ("in_review", "contacted"),
    "consult_scheduled": ("in_review", "contacted", "consult_scheduled"),
    "not_a_fit": ("in_review", "not_a_fit"),
    "closed": ("in_review", "contacted", "closed"),
}
RESPONSE_WEIGHTS = {"helped_a_lot": 1, "helped_a_little": 3, "did_not_help": 4, "side_effects": 2}
# A yes is rare for most health questions, a little less rare for the common cautions.
SAFETY_YES_RATE = {
    "vascular_aneurysm": 0.01, "brain_bleed": 0.01, "ketamine_allergy": 0.01,
    "uncontrolled_blood_pressure": 0.06, "heart_disease": 0.04, "psychosis": 0.03,
    "mania": 0.06, "substance_use": 0.07, "pregnancy": 0.03, "sedatives_or_stimulants": 0.15,
}

SUBMISSION_TABLE = Submission.__table__
PATIENT_TABLE = Patient.__table__
RESPONSE_TABLE = QuestionnaireResponse.__table__

demo_cli = AppGroup("demo", help="Synthetic data for demos and benchmarks.")


# A patient's overall level, as a share of an item's highest answer (0 = not at all … 1 =
# nearly every day); each instrument's answers spread around it.
LEVELS = (0.1, 0.27, 0.43, 0.57, 0.7, 0.83)
SPREAD = 0.8
# An alert item (PHQ-9 item 9) is answered above 0 less often, more often when mood is low.
ALERT_SHIFT = 2.0
ALERT_SPREAD = 0.7
WEEKS = (2, 3, 4, 6, 8, 10, 12, 16, 24, 36, 52)
RESPONSES = tuple(RESPONSE_WEIGHTS)
RESPONSE_CUM = tuple(itertools.accumulate(RESPONSE_WEIGHTS.values()))
TRIAL_COUNTS = (0, 1, 2, 3, 4, 5)
TRIAL_COUNT_CUM = tuple(itertools.accumulate((15, 20, 25, 20, 12, 8)))
SAFETY_RATES = tuple(
    (q.code, SAFETY_YES_RATE.get(q.code, 0.03)) for q in health_screen.SAFETY_QUESTIONS
)


@functools.cache
def _answer_weights(options: int, level: float, shift: float, spread: float) -> tuple[float, ...]:
    """Cumulative chances of each of ``options`` answers, drawn around ``level`` (a share of
    the highest), moved down by ``shift``, and rounded. Cached: a row costs a few draws."""
    normal = NormalDist(level * (options - 1) - shift, spread)
    return tuple(normal.cdf(index + 0.5) for index in range(options - 1)) + (1.0,)


def _answers(rng: random.Random, instrument: Instrument, level: float) -> dict[str, int]:
    """A complete, plausible response to ``instrument`` from someone at ``level``."""
    alert_item = instrument.alert.item_key if instrument.alert else None
    answers: dict[str, int] = {}
    for item in instrument.scored_items:
        choices = item.answers.choices
        weights = (_answer_weights(len(choices), level, ALERT_SHIFT, ALERT_SPREAD)
                   if item.key == alert_item else _answer_weights(len(choices), level, 0, SPREAD))
        answers[item.key] = rng.choices(choices, cum_weights=weights)[0].value
    for item in required_items(instrument, answers):
        if item.key not in answers:  # the unscored ones asked when any answer is above 0
            choices = item.answers.choices
            weights = _answer_weights(len(choices), level, 0, SPREAD)
            answers[item.key] = rng.choices(choices, cum_weights=weights)[0].value
    return answers


def _trials(rng: random.Random) -> list[Trial]:
    count = rng.choices(TRIAL_COUNTS, cum_weights=TRIAL_COUNT_CUM)[0]
    return [
        Trial(
            medication=name,
            weeks=rng.choice(WEEKS),
            as_prescribed=rng.random() < 0.85,
            response=rng.choices(RESPONSES, cum_weights=RESPONSE_CUM)[0],
        )
        for name in rng.sample(MEDICATIONS, count)
    ]


def _reference(rng: random.Random, taken: set[str]) -> str:
    while True:
        reference = references.new_reference(rng.choice)
        if reference not in taken:
            taken.add(reference)
            return reference


@dataclass
class Record:
    """One synthetic intake as column values: its patient, its submission, its responses."""

    patient: dict[str, Any]
    submission: dict[str, Any]
    responses: list[dict[str, Any]]


def synthetic_record(
    rng: random.Random, index: int, now: dt.datetime, taken: set[str], staff_ids: list[int],
    instruments: tuple[Instrument, ...],
) -> Record:
    """One synthetic intake, scored and flagged by the real rules."""
    # A clinic's referrals: many moderately to severely depressed, some mostly anxious.
    mood = rng.randrange(len(LEVELS))
    answers: dict[str, dict[str, int]] = {}
    for number, instrument in enumerate(instruments):
        drift = 0 if number == 0 else rng.choice((-2, -1, 0, 0, 1, 2))
        level = LEVELS[min(len(LEVELS) - 1, max(0, mood + drift))]
        answers[instrument.key] = _answers(rng, instrument, level)
    scores = {i.key: score(i, answers[i.key]) for i in instruments}
    trials = _trials(rng)
    safety = {code: rng.random() < rate for code, rate in SAFETY_RATES}
    result = assess(scores, trials, safety)

    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    reference = _reference(rng, taken)
    submitted_at = now - dt.timedelta(seconds=rng.randrange(SPREAD_DAYS * 86_400))
    age_days = rng.randrange(18 * 366, 75 * 365)
    email = f"{first}.{last}.{index}@example.com".lower()
    had_ketamine = rng.random() < 0.08
    age = now - submitted_at
    status = "new" if age < dt.timedelta(days=2) else rng.choices(
        list(STATUS_PATHS), weights=(10, 25, 25, 15, 10, 15)
    )[0]
    acknowledged = result.urgent and age >= UNACKNOWLEDGED_WITHIN
    patient = {
        "created_at": submitted_at,
        **patient_columns({
            "first_name": first,
            "last_name": last,
            "date_of_birth": (submitted_at - dt.timedelta(days=age_days)).date(),
            "email": email,
            "phone": f"555 01{rng.randrange(100):02d} {rng.randrange(10_000):04d}",
            "contact_method": rng.choice(("email", "phone", "text")),
        }),
    }
    submission = {
        "reference": reference,
        "draft_token_hash": f"{rng.getrandbits(256):064x}",
        "submitted_at": submitted_at,
        "consented_at": submitted_at - dt.timedelta(minutes=rng.randrange(5, 60)),
        "language": "en",
        "search_text": search_text(first, last, email, reference),
        "trials": [t.__dict__ for t in trials],
        "other_treatments": {
            "psychotherapy": rng.random() < 0.7,
            "ect": rng.random() < 0.04,
            "tms": rng.random() < 0.06,
            "ketamine": had_ketamine,
            "ketamine_outcome": rng.choice(RESPONSES) if had_ketamine else None,
            "notes": "",
        },
        "safety": safety,
        **flag_columns(result),
        "review_status": status,
        "acknowledged_at": submitted_at + dt.timedelta(hours=rng.randrange(1, 24))
        if acknowledged else None,
        "acknowledged_by_id": rng.choice(staff_ids) if acknowledged else None,
        "acknowledgement_note": ACK_NOTE if acknowledged else None,
        "alert_status": None,
    }
    # flag_columns gives the state of a new submission (an urgent one awaits acknowledgement);
    # the older urgent ones here have been acknowledged since.
    submission["awaiting_ack"] = result.urgent and not acknowledged
    responses = [
        {"occasion": INTAKE, "language": "en", "completed_at": submitted_at,
         **response_columns(instrument, answers[instrument.key], scores[instrument.key])}
        for instrument in instruments
    ]
    return Record(patient, submission, responses)


def _follow_ups(
    rng: random.Random, row: dict[str, Any], submission_id: int, staff_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The status changes that led to the row's status, and a note or two on some rows."""
    changes, notes = [], []
    at: dt.datetime = row["submitted_at"]
    previous = "new"
    for status in STATUS_PATHS[row["review_status"]]:
        at += dt.timedelta(hours=rng.randrange(2, 72))
        changes.append({"submission_id": submission_id, "from_status": previous,
                        "to_status": status, "user_id": rng.choice(staff_ids), "changed_at": at})
        previous = status
    if changes and rng.random() < 0.4:
        for _ in range(rng.choice((1, 1, 2))):
            at += dt.timedelta(minutes=rng.randrange(5, 600))
            notes.append({"submission_id": submission_id, "user_id": rng.choice(staff_ids),
                          "created_at": at, "body": rng.choice(NOTE_TEXTS)})
    return changes, notes


def _demo_staff_ids() -> list[int]:
    """The demo staff accounts, created with unguessable unused passwords when missing."""
    ids = []
    for email in DEMO_STAFF:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, password_hash=hash_password(secrets.token_urlsafe(32)),
                        role="clinician")
            db.session.add(user)
            db.session.flush()
        ids.append(user.id)
    return ids


def _batches(total: int) -> Iterator[int]:
    done = 0
    while done < total:
        size = min(BATCH_SIZE, total - done)
        yield size
        done += size


def seed(
    count: int, seed_value: int | None, now: dt.datetime,
    instruments: tuple[Instrument, ...] | None = None,
) -> int:
    """Insert ``count`` synthetic intakes (patients, submissions, responses, status history
    and notes), committing in batches; the same ``seed_value`` and ``now`` on an empty
    database give the same rows."""
    instruments = instruments or intake_instruments()
    rng = random.Random(seed_value)
    staff_ids = _demo_staff_ids()
    taken = set(db.session.scalars(select(Submission.reference)))
    index = len(taken)
    for size in _batches(count):
        records = [synthetic_record(rng, index + i, now, taken, staff_ids, instruments)
                   for i in range(size)]
        index += size
        # Executemany into the tables (the ORM's unit of work costs far more CPU here). The
        # patients' new ids come back in order (INSERT … RETURNING, sorted by parameter); the
        # submissions' are read back by reference.
        patient_ids = db.session.scalars(
            insert(PATIENT_TABLE).returning(PATIENT_TABLE.c.id, sort_by_parameter_order=True),
            [record.patient for record in records],
        ).all()
        for record, patient_id in zip(records, patient_ids, strict=True):
            record.submission["patient_id"] = patient_id
        db.session.execute(insert(SUBMISSION_TABLE), [record.submission for record in records])
        id_of = dict(db.session.execute(
            select(Submission.reference, Submission.id)
            .where(Submission.reference.in_([r.submission["reference"] for r in records]))
        ).tuples().all())
        responses: list[dict[str, Any]] = []
        changes: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for record in records:
            submission_id = id_of[record.submission["reference"]]
            responses += [
                {**values, "patient_id": record.submission["patient_id"],
                 "submission_id": submission_id}
                for values in record.responses
            ]
            row_changes, row_notes = _follow_ups(rng, record.submission, submission_id,
                                                 staff_ids)
            changes += row_changes
            notes += row_notes
        db.session.execute(insert(RESPONSE_TABLE), responses)
        if changes:
            db.session.execute(insert(StatusChange.__table__), changes)
        if notes:
            db.session.execute(insert(Note.__table__), notes)
        db.session.commit()
    # Without statistics SQLite sorted all the new rows to show 50; the search index is left
    # in a dozen pieces by the batches.
    database.compact_search_index()
    database.refresh_statistics()
    return count


@demo_cli.command("seed")
@click.option("--count", type=click.IntRange(1, MAX_COUNT), default=1_000, show_default=True,
              help="How many synthetic submissions to add.")
@click.option("--seed", "seed_value", type=int, default=None,
              help="Random seed: the same seed gives the same data.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def seed_command(count: int, seed_value: int | None, yes: bool) -> None:
    """Add COUNT synthetic submissions (fake people) for demos and benchmarks."""
    # Fake patients in a clinic's real database would be worse than useless: ask first.
    if not yes:
        click.confirm(
            f"Add {count} synthetic submissions to {db.engine.url.render_as_string()}?",
            abort=True,
        )
    started = time.perf_counter()
    seed(count, seed_value, utcnow())
    click.echo(f"Added {count} synthetic submissions in {time.perf_counter() - started:.1f} s.")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)
