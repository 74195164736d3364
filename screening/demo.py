"""``flask demo seed``: fill the database with synthetic submissions for demos and benchmarks.

Every row is made up (names from an obviously fake list, example.com addresses, 555-01xx
phone numbers) and scored by the real ``screening.core.flags.assess``, so its flags, totals
and reasons are exactly what the intake would have stored for those answers.

It may import ``screening.core``, ``screening.clock``, ``screening.extensions``,
``screening.models``, ``screening.web``, ``screening.staff`` and ``screening.intake``: it is a
command at the top, beside the app factory.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import secrets
import time
from collections.abc import Iterator
from statistics import NormalDist
from typing import Any

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import insert, select

from .clock import utcnow
from .core import instruments as inst
from .core import references
from .core.flags import assess
from .core.trials import Trial
from .extensions import db
from .intake.submission import flag_columns, search_text
from .models import Note, StatusChange, Submission, User
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

demo_cli = AppGroup("demo", help="Synthetic data for demos and benchmarks.")


# A patient's overall level (0 = not at all … 3 = nearly every day); answers spread around it.
LEVELS = (0.3, 0.8, 1.3, 1.7, 2.1, 2.5)
ANSWERS = (0, 1, 2, 3)
PHQ9_FIELDS = tuple(inst.PHQ9.field(item) for item in inst.PHQ9.items)
GAD7_FIELDS = tuple(inst.GAD7.field(item) for item in inst.GAD7.items)
WEEKS = (2, 3, 4, 6, 8, 10, 12, 16, 24, 36, 52)
RESPONSES = tuple(RESPONSE_WEIGHTS)
RESPONSE_CUM = tuple(itertools.accumulate(RESPONSE_WEIGHTS.values()))
TRIAL_COUNTS = (0, 1, 2, 3, 4, 5)
TRIAL_COUNT_CUM = tuple(itertools.accumulate((15, 20, 25, 20, 12, 8)))
SAFETY_RATES = tuple((q.code, SAFETY_YES_RATE.get(q.code, 0.03)) for q in inst.SAFETY_QUESTIONS)


def _answer_weights(level: float, spread: float = 0.8) -> tuple[float, ...]:
    """Cumulative chances of 0–3 for an answer drawn around ``level`` and rounded."""
    normal = NormalDist(level, spread)
    return tuple(normal.cdf(value + 0.5) for value in ANSWERS[:-1]) + (1.0,)


# Precomputed so that a row costs a few random draws, not one Gaussian per answer.
ANSWER_CUM = {level: _answer_weights(level) for level in LEVELS}
# Item 9 is answered above 0 less often than the other items, more often when mood is low.
SELF_HARM_CUM = {level: _answer_weights(level - 2.0, 0.7) for level in LEVELS}


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


def submission_row(
    rng: random.Random, index: int, now: dt.datetime, taken: set[str], staff_ids: list[int]
) -> dict[str, Any]:
    """One synthetic submission as a dict of column values, flagged by the real rules."""
    # A clinic's referrals: many moderately to severely depressed, some mostly anxious.
    mood = rng.randrange(len(LEVELS))
    anxiety = LEVELS[min(len(LEVELS) - 1, max(0, mood + rng.choice((-2, -1, 0, 0, 1, 2))))]
    level = LEVELS[mood]
    answers = dict(zip(PHQ9_FIELDS, rng.choices(ANSWERS, cum_weights=ANSWER_CUM[level], k=9),
                       strict=True))
    if rng.random() < 0.9:
        answers["phq9_9"] = rng.choices(ANSWERS, cum_weights=SELF_HARM_CUM[level])[0]
    answers.update(zip(GAD7_FIELDS, rng.choices(ANSWERS, cum_weights=ANSWER_CUM[anxiety], k=7),
                       strict=True))
    trials = _trials(rng)
    safety = {code: rng.random() < rate for code, rate in SAFETY_RATES}
    result = assess(answers, trials, safety)

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
    row = {
        "reference": reference,
        "draft_token_hash": f"{rng.getrandbits(256):064x}",
        "submitted_at": submitted_at,
        "consented_at": submitted_at - dt.timedelta(minutes=rng.randrange(5, 60)),
        "first_name": first,
        "last_name": last,
        "date_of_birth": (submitted_at - dt.timedelta(days=age_days)).date(),
        "email": email,
        "phone": f"555 01{rng.randrange(100):02d} {rng.randrange(10_000):04d}",
        "contact_method": rng.choice(("email", "phone", "text")),
        "search_text": search_text(first, last, email, reference),
        "answers": answers,
        "phq9_difficulty": (
            rng.choices(ANSWERS, cum_weights=ANSWER_CUM[level])[0]
            if any(answers[field] for field in PHQ9_FIELDS) else None
        ),
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
        **flag_columns(result, answers),
        "review_status": status,
        "acknowledged_at": submitted_at + dt.timedelta(hours=rng.randrange(1, 24))
        if acknowledged else None,
        "acknowledged_by_id": rng.choice(staff_ids) if acknowledged else None,
        "acknowledgement_note": ACK_NOTE if acknowledged else None,
        "alert_status": None,
    }
    # flag_columns gives the state of a new submission (an urgent one awaits acknowledgement);
    # the older urgent ones here have been acknowledged since.
    row["awaiting_ack"] = result.urgent and not acknowledged
    return row


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


def seed(count: int, seed_value: int | None, now: dt.datetime) -> int:
    """Insert ``count`` synthetic submissions (with status history and notes), committing in
    batches; the same ``seed_value`` and ``now`` on an empty database give the same rows."""
    rng = random.Random(seed_value)
    staff_ids = _demo_staff_ids()
    taken = set(db.session.scalars(select(Submission.reference)))
    index = len(taken)
    for size in _batches(count):
        rows = [submission_row(rng, index + i, now, taken, staff_ids) for i in range(size)]
        index += size
        # One executemany per batch into the table (the ORM's bulk path costs a quarter more
        # CPU here and splits batches wherever the set of None columns changes), then the new
        # ids by reference: on SQLite several times faster than INSERT … RETURNING.
        db.session.execute(insert(SUBMISSION_TABLE), rows)
        id_of = dict(db.session.execute(
            select(Submission.reference, Submission.id)
            .where(Submission.reference.in_([row["reference"] for row in rows]))
        ).tuples().all())
        ids = [id_of[row["reference"]] for row in rows]
        changes: list[dict[str, Any]] = []
        notes: list[dict[str, Any]] = []
        for row, submission_id in zip(rows, ids, strict=True):
            row_changes, row_notes = _follow_ups(rng, row, submission_id, staff_ids)
            changes += row_changes
            notes += row_notes
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
