"""A questionnaire defined here, and nowhere in the product, goes all the way through the app
from its definition alone: the intake asks it (its own answer set, a conditional item and an
alert), validates it, scores and stores it, the review page and the staff pages show it, and
the CSV and FHIR exports carry it. No product file knows it: the test registers it and names
it in ``INTAKE_INSTRUMENTS``, as a clinic adding one would (docs: README, "Adding a
questionnaire").
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from screening.core import instruments
from screening.core.instruments import (
    Alert,
    AnswerSet,
    Band,
    Choice,
    Instrument,
    Item,
    Required,
)
from screening.extensions import db
from screening.models import Submission

from .clinician_helpers import signed_in, use_cheap_password_hashing
from .conftest import post_form
from .intake_helpers import valid_steps
from .test_dashboard import page_text

# Synthetic wording and codes: an instrument no clinic uses.
NIGHTS = AnswerSet("nights", (
    Choice(0, "No nights", "ZZ-N0"), Choice(1, "One or two nights", "ZZ-N1"),
    Choice(2, "Three nights or more", "ZZ-N2"),
))
BOTHER = AnswerSet("bother", (Choice(0, "Not at all", "ZZ-B0"), Choice(1, "A lot", "ZZ-B1")))
SLEEP3 = Instrument(
    key="sleep3",
    version="1",
    name="SLEEP-3",
    title="Sleep (SLEEP-3)",
    step_title="Your sleep",
    stem="In the last week, on how many nights did you:",
    panel_loinc="X1000-1",
    total_loinc="X1000-9",
    items=(
        Item("1", 1, "Wake before dawn and stay awake", "X1001-1", NIGHTS),
        Item("2", 2, "Have nightmares that woke you", "X1002-1", NIGHTS),
        Item("3", 3, "If any, how much did this bother you?", "X1003-1", BOTHER, scored=False,
             required=Required.WHEN_ANY_SCORED_ITEM_ABOVE_0, field="sleep3_bother",
             hint="Answer if you chose anything but “No nights”."),
    ),
    bands=(Band(0, 1, "low", "low"), Band(2, 4, "high", "high")),
    alert=Alert("2", 2, "SLEEP-3 item 2 (nightmares) answered {answer}", "sleep3_item2_often"),
)


@pytest.fixture
def sleep_app(make_app, monkeypatch):
    monkeypatch.setitem(instruments.INSTRUMENTS, SLEEP3.key, SLEEP3)
    use_cheap_password_hashing(monkeypatch)
    return make_app(INTAKE_INSTRUMENTS=["phq9", "gad7", "sleep3"])


def walk(client, sleep: dict[str, str]):
    steps = valid_steps()
    for key in ("consent", "about", "phq9", "gad7"):
        assert post_form(client, f"/intake/{key}", steps[key]).status_code == 302
    response = post_form(client, "/intake/sleep3", sleep)
    if response.status_code != 302:
        return response
    assert response.location == "/intake/treatment"
    for key in ("treatment", "health"):
        assert post_form(client, f"/intake/{key}", steps[key]).status_code == 302
    return response


def test_the_intake_asks_it_after_the_gad7_from_its_definition(sleep_app):
    client = sleep_app.test_client()
    steps = valid_steps()
    for key in ("consent", "about", "phq9"):
        post_form(client, f"/intake/{key}", steps[key])
    assert post_form(client, "/intake/gad7", steps["gad7"]).location == "/intake/sleep3"
    page = page_text(client.get("/intake/sleep3"))
    assert "Your sleep" in page and "Step 5 of 8" in page
    assert "In the last week, on how many nights did you:" in page
    for words in ("1. Wake before dawn and stay awake", "Three nights or more",
                  "3. If any, how much did this bother you?", "A lot",
                  "Answer if you chose anything but “No nights”."):
        assert words in page


def test_it_validates_as_its_definition_says(sleep_app):
    client = sleep_app.test_client()
    refused = walk(client, {"sleep3_1": "1"})
    assert refused.status_code == 422
    text = page_text(refused)
    assert "Choose an answer for question 2." in text
    # Item 3 is needed once an answer is above 0; an answer outside the set is refused.
    refused = post_form(client, "/intake/sleep3", {"sleep3_1": "1", "sleep3_2": "0"})
    assert "Choose an answer for question 3." in page_text(refused)
    refused = post_form(client, "/intake/sleep3",
                        {"sleep3_1": "3", "sleep3_2": "0", "sleep3_bother": "1"})
    assert refused.status_code == 422
    # All "No nights": item 3 may stay unanswered.
    assert post_form(client, "/intake/sleep3",
                     {"sleep3_1": "0", "sleep3_2": "0"}).status_code == 302


def test_it_is_scored_stored_shown_and_exported(sleep_app):
    patient = sleep_app.test_client()
    walk(patient, {"sleep3_1": "1", "sleep3_2": "2", "sleep3_bother": "1"})
    review = page_text(patient.get("/intake/review"))
    assert "Your sleep" in review
    assert "2. Have nightmares that woke you Three nights or more" in review
    assert post_form(patient, "/intake/review", {}).location.endswith("/intake/done")

    with sleep_app.app_context():
        stored = db.session.scalars(db.select(Submission)).one()
        response = stored.response("sleep3")
        assert (response.answers, response.total, response.band, response.urgent) == (
            {"1": 1, "2": 2, "3": 1}, 3, "high", True)
        # Its alert makes the intake urgent, as PHQ-9 item 9 does, with its own words.
        assert stored.urgent and stored.awaiting_ack
        assert stored.reasons["urgent"] == [
            "SLEEP-3 item 2 (nightmares) answered three nights or more"]
        reference = stored.reference

    staff = signed_in(sleep_app)
    dashboard = page_text(staff.get("/clinician/"))
    assert "SLEEP-3" in dashboard and "Item 2" in dashboard
    page = page_text(staff.get(f"/clinician/submissions/{reference}"))
    assert "Sleep (SLEEP-3)" in page
    assert "Have nightmares that woke you Three nights or more Urgent 2" in page
    assert "Total (0–4) 3" in page and "Severity band high" in page

    body = staff.get("/clinician/export.csv").get_data(as_text=True).lstrip("\ufeff")
    header, row = list(csv.reader(io.StringIO(body, newline="")))
    cells = dict(zip(header, row, strict=True))
    assert header[header.index("gad7_severity") + 1:header.index("adequate_failed_trials")] == [
        "sleep3_1", "sleep3_2", "sleep3_total", "sleep3_severity", "sleep3_bother",
        "sleep3_item2_often"]
    assert [cells[c] for c in ("sleep3_1", "sleep3_2", "sleep3_total", "sleep3_severity",
                               "sleep3_bother", "sleep3_item2_often")] == [
        "1", "2", "3", "high", "1", "true"]

    bundle = Bundle.model_validate_json(
        staff.get(f"/clinician/submissions/{reference}/fhir.json").get_data())
    sleep = next(e.resource for e in bundle.entry
                 if e.resource.get_resource_type() == "QuestionnaireResponse"
                 and e.resource.questionnaire.split("|")[0].endswith("/sleep3"))
    codings = {i.linkId: i.answer[0] for i in sleep.item}
    assert codings["/X1000-1/X1002-1"].valueCoding.code == "ZZ-N2"
    assert codings["/X1000-1/X1000-9"].valueInteger == 3
    json.dumps(bundle.model_dump(mode="json"))  # serialises


def test_without_it_in_the_settings_the_intake_does_not_ask_it(make_app, monkeypatch):
    monkeypatch.setitem(instruments.INSTRUMENTS, SLEEP3.key, SLEEP3)
    client = make_app().test_client()
    steps = valid_steps()
    for key in ("consent", "about", "phq9"):
        post_form(client, f"/intake/{key}", steps[key])
    assert post_form(client, "/intake/gad7", steps["gad7"]).location == "/intake/treatment"
    assert client.get("/intake/sleep3").status_code == 404
