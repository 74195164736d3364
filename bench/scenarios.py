"""What the load generator's visitors do: a patient's whole intake, and the baseline's equivalent.

Synthetic answers only: obviously fake names, example.com addresses, 555-01xx numbers.
"""

from __future__ import annotations

import random
from typing import Any

from loadgen import BenchError, Visitor, csrf_token, local_path

SAFETY_CODES = ("vascular_aneurysm", "brain_bleed", "ketamine_allergy",
                "uncontrolled_blood_pressure", "heart_disease", "psychosis", "mania",
                "substance_use", "pregnancy", "sedatives_or_stimulants")
MEDICATIONS = ("Sertraline", "Escitalopram", "Bupropion", "Venlafaxine", "Mirtazapine")
RESPONSES = ("helped_a_lot", "helped_a_little", "did_not_help", "side_effects")


def intake_answers(number: int) -> dict[str, dict[str, Any]]:
    """The form data of every step for patient ``number``: varied, valid, synthetic."""
    rng = random.Random(number)
    level = rng.choice((0, 1, 1, 2, 2, 3))
    phq9 = {f"phq9_{i}": str(min(3, max(0, level + rng.choice((-1, 0, 0, 1)))))
            for i in range(1, 10)}
    phq9["phq9_9"] = str(rng.choice((0, 0, 0, 0, 1, 2)))
    phq9["phq9_difficulty"] = str(rng.randrange(4))
    treatment: dict[str, Any] = {
        "other_psychotherapy": rng.choice(("yes", "no")),
        "other_ect": "no",
        "other_tms": "no",
        "other_ketamine": "no",
    }
    # A browser sends every text box of the 8 rows on the page, filled in or not.
    for row in range(8):
        treatment |= {f"trials-{row}-medication": "", f"trials-{row}-weeks": ""}
    treatment["treatment_notes"] = ""
    for row, name in enumerate(rng.sample(MEDICATIONS, rng.randrange(4))):
        treatment |= {
            f"trials-{row}-medication": name,
            f"trials-{row}-weeks": str(rng.choice((4, 8, 12, 26))),
            f"trials-{row}-as_prescribed": rng.choice(("yes", "yes", "no")),
            f"trials-{row}-response": rng.choice(RESPONSES),
        }
    return {
        "consent": {"consent": "y", "website": ""},
        "about": {
            "first_name": rng.choice(("Alex", "Sam", "Robin", "Casey")),
            "last_name": "Benchperson",
            "date_of_birth-day": str(rng.randrange(1, 29)),
            "date_of_birth-month": str(rng.randrange(1, 13)),
            "date_of_birth-year": str(rng.randrange(1950, 2000)),
            "email": f"bench.{number}@example.com",
            "phone": f"555 01{rng.randrange(100):02d} {rng.randrange(10000):04d}",
            "contact_method": rng.choice(("email", "phone", "text")),
        },
        "phq9": phq9,
        "gad7": {f"gad7_{i}": str(rng.randrange(4)) for i in range(1, 8)},
        "treatment": treatment,
        "health": {code: "yes" if rng.random() < 0.05 else "no" for code in SAFETY_CODES},
    }


def complete_intake(visitor: Visitor, number: int) -> None:
    """A new patient from the start page to the confirmation: 16 requests, as a browser does
    them (each redirect followed, the CSRF token read from each page)."""
    visitor.cookies.clear()
    visitor.get("/")
    page = visitor.get("/intake/consent")
    for step, data in intake_answers(number).items():
        reply = visitor.post(f"/intake/{step}", {"csrf_token": csrf_token(page.text), **data,
                                                 "action": "continue"})
        page = visitor.get(local_path(reply.location))
    if not reply.location.endswith("/intake/review"):
        raise BenchError(f"the last step led to {reply.location}, not the review")
    reply = visitor.post("/intake/review", {"csrf_token": csrf_token(page.text)})
    done = visitor.get(local_path(reply.location))
    if 'class="reference"' not in done.text:
        raise BenchError("no reference on the confirmation page")


def baseline_bodies(number: int) -> list[dict[str, Any]]:
    """The same form bodies the intake POSTs (the review's is the CSRF token alone)."""
    token = "x" * 91  # as long as a Flask-WTF token
    bodies = [{"csrf_token": token, **data, "action": "continue"}
              for data in intake_answers(number).values()]
    return [*bodies, {"csrf_token": token}]


def baseline_posts(visitor: Visitor, number: int) -> None:
    """The baseline's equivalent of one intake: each of the intake's form bodies posted and
    stored as one row."""
    for body in baseline_bodies(number):
        visitor.post("/baseline", body, expect=200)
