"""The whole patient path over HTTP: start, every step in order, review, confirmation."""

from __future__ import annotations

import re

import pytest

from screening.core import health_screen, treatment_history
from screening.core import instruments as inst
from screening.core.flags import assess
from screening.core.scoring import score
from screening.core.trials import Trial

from .conftest import post_form
from .intake_helpers import (
    STEP_KEYS,
    all_submissions,
    complete_intake,
    saved_draft_data,
    valid_steps,
    walk_to,
)

REFERENCE = re.compile(r"^[ABCDEFGHJKMNPQRSTVWXYZ23456789]{4}-[ABCDEFGHJKMNPQRSTVWXYZ23456789]{4}$")


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_start_page_says_what_this_is_who_reads_it_how_long_and_what_it_is_not(client):
    page = text_of(client.get("/"))
    assert "ketamine-assisted therapy" in page
    assert "A clinician at the clinic reads your answers" in page
    assert "10 to 15 minutes" in page
    assert "not a diagnosis" in page
    assert "How we use your answers" in page and "read only by its clinical staff" in page
    assert "<strong>988</strong>" in page and "<strong>911</strong>" in page
    assert 'href="/intake/consent"' in page


def test_crisis_page_lists_988_and_911(client):
    page = text_of(client.get("/crisis"))
    assert "Call or text 988" in page and "Call 911" in page


def crisis_reachable(page: str) -> bool:
    return 'href="/crisis"' in page and "988" in page and "911" in page


def test_crisis_resources_are_reachable_from_every_patient_page(app, client):
    pages = {"/": client.get("/"), "/crisis": client.get("/crisis"),
             "/nowhere": client.get("/intake/nowhere"),
             "/intake/resume/x": client.get("/intake/resume/not-a-real-token")}
    for key, data in valid_steps().items():
        pages[f"/intake/{key}"] = client.get(f"/intake/{key}")
        pages[f"/intake/{key} with errors"] = post_form(client, f"/intake/{key}", {})
        assert post_form(client, f"/intake/{key}", data).status_code == 302
    pages["/intake/review"] = client.get("/intake/review")
    post_form(client, "/intake/review", {})
    pages["/intake/done"] = client.get("/intake/done")
    later = app.test_client()
    walk_to(later, "gad7")
    post_form(later, "/intake/gad7", {**valid_steps()["gad7"], "action": "save_later"})
    pages["/intake/saved"] = later.get("/intake/saved")
    for url, response in pages.items():
        assert response.status_code in (200, 404, 422), url
        assert crisis_reachable(text_of(response)), url


def test_each_step_leads_to_the_next_then_to_review(client):
    for index, (key, data) in enumerate(valid_steps().items()):
        response = post_form(client, f"/intake/{key}", data)
        following = STEP_KEYS[index + 1] if index + 1 < len(STEP_KEYS) else "review"
        assert response.location == f"/intake/{following}"


def test_progress_says_which_step_of_how_many(client):
    walk_to(client, "gad7")
    assert "Step 4 of 7" in text_of(client.get("/intake/gad7"))
    walk_to(client, "review")
    assert "Step 7 of 7" in text_of(client.get("/intake/review"))


def test_without_a_draft_every_later_step_goes_back_to_the_start(client):
    for key in STEP_KEYS[1:] + ["review"]:
        assert client.get(f"/intake/{key}").location == "/"
    assert client.get("/intake/consent").status_code == 200


@pytest.mark.parametrize("target", ["phq9", "gad7", "treatment", "health", "review"])
def test_skipping_ahead_by_url_is_redirected_to_the_first_incomplete_step(client, target):
    walk_to(client, "about")
    assert client.get(f"/intake/{target}").location == "/intake/about"


def test_posting_a_later_step_early_stores_nothing(app, client):
    walk_to(client, "about")
    response = post_form(client, "/intake/about", {})  # GET for the token only
    response = client.post("/intake/health", data=valid_steps()["health"])
    assert response.status_code in (302, 400)
    assert "health" not in saved_draft_data(app, client)


def test_back_and_reload_show_every_saved_answer(client):
    walk_to(client, "review")
    about = text_of(client.get("/intake/about"))
    for value in ('value="Alex"', 'value="Testperson"', 'value="14"', 'value="6"',
                  'value="1984"', 'value="alex.testperson@example.com"', 'value="555 010 4477"'):
        assert value in about
    assert re.search(r'id="contact_method-0"[^>]*value="email" checked', about)

    phq9 = text_of(client.get("/intake/phq9"))
    assert len(re.findall(r'value="2" checked', phq9)) == 9  # items 1–8 and item 10
    assert re.search(r'name="phq9_9" value="0" checked', phq9)

    treatment = text_of(client.get("/intake/treatment"))
    assert 'value="Sertraline"' in treatment and 'value="Escitalopram"' in treatment
    assert re.search(r'name="trials-1-response" value="helped_a_little" checked', treatment)
    assert re.search(r'name="other_psychotherapy" value="yes" checked', treatment)

    consent = text_of(client.get("/intake/consent"))
    assert re.search(r'id="consent"[^>]*checked', consent)


def test_the_back_link_goes_to_the_previous_step(client):
    walk_to(client, "gad7")
    assert 'class="back-link" href="/intake/phq9"' in text_of(client.get("/intake/gad7"))


def test_review_shows_every_answer_and_a_change_link_per_section(client):
    complete_intake(client, submit=False, treatment={"treatment_notes": "Tried yoga too"})
    page = text_of(client.get("/intake/review"))
    for key in STEP_KEYS:
        assert f'href="/intake/{key}?return_to=review"' in page
    for shown in ("Alex Testperson", "June 14, 1984", "alex.testperson@example.com",
                  "555 010 4477", "Sertraline", "8 weeks; taken as prescribed; did not help",
                  "Escitalopram", "Tried yoga too"):
        assert shown in page
    for item in inst.PHQ9.items + inst.GAD7.items:
        assert item.text.replace("'", "&#39;") in page
    assert inst.PHQ9.item("10").text in page and "Very difficult" in page
    for question in health_screen.SAFETY_QUESTIONS:
        assert question.question in page
    for other in treatment_history.OTHER_TREATMENTS:
        assert other.question in page


@pytest.mark.parametrize("key", STEP_KEYS)
def test_changing_an_answer_from_review_returns_to_review(client, key):
    complete_intake(client, submit=False)
    form = text_of(client.get(f"/intake/{key}?return_to=review"))
    assert '<input type="hidden" name="return_to" value="review">' in form
    response = post_form(client, f"/intake/{key}?return_to=review",
                         {**valid_steps()[key], "return_to": "review"})
    assert response.location == "/intake/review"


def test_a_change_from_review_is_shown_on_review(client):
    complete_intake(client, submit=False)
    post_form(client, "/intake/about?return_to=review",
              {**valid_steps()["about"], "first_name": "Robin", "return_to": "review"})
    assert "Robin Testperson" in text_of(client.get("/intake/review"))


def test_an_invalid_change_from_review_still_returns_to_review_once_fixed(client):
    complete_intake(client, submit=False)
    url = "/intake/about?return_to=review"
    response = post_form(client, url, {**valid_steps()["about"], "email": "nope",
                                       "return_to": "review"})
    assert response.status_code == 422
    assert '<input type="hidden" name="return_to" value="review">' in text_of(response)
    response = post_form(client, url, {**valid_steps()["about"], "return_to": "review"})
    assert response.location == "/intake/review"


def test_submit_shows_a_confirmation_with_a_reference_not_the_database_id(app, client):
    response = complete_intake(client)
    assert response.location == "/intake/done"
    page = text_of(client.get("/intake/done"))
    [stored] = all_submissions(app)
    assert REFERENCE.match(stored.reference)
    assert f'<p class="reference">{stored.reference}</p>' in page
    assert "Your answers have been sent" in page
    assert "not a diagnosis" in page
    assert "crisis-panel" not in page and "done-crisis" not in page


def test_the_confirmation_never_says_eligible_or_diagnosed(client):
    complete_intake(client)
    page = text_of(client.get("/intake/done")).lower()
    assert "eligib" not in page and "you have depression" not in page
    assert "diagnosed" not in page


def test_the_confirmation_is_not_shown_to_a_new_visitor(client):
    assert client.get("/intake/done").location == "/"


@pytest.mark.parametrize("item9", ["1", "2", "3"])
def test_item_9_above_0_shows_crisis_resources_next_and_leads_the_confirmation(
    app, client, item9
):
    walk_to(client, "phq9")
    response = post_form(client, "/intake/phq9", {**valid_steps()["phq9"], "phq9_9": item9})
    assert response.location == "/intake/gad7"
    for key in ("gad7", "treatment", "health"):
        assert 'id="crisis-panel"' in text_of(client.get(f"/intake/{key}")), key
        post_form(client, f"/intake/{key}", valid_steps()[key])
    post_form(client, "/intake/review", {})
    page = text_of(client.get("/intake/done"))
    assert 'id="done-crisis"' in page
    assert page.index('id="done-crisis"') < page.index("<h1>")
    [stored] = all_submissions(app)
    assert stored.urgent is True and stored.awaiting_ack is True
    assert stored.response("phq9").answers["9"] == int(item9)
    assert stored.response("phq9").urgent is True


def test_item_9_of_0_shows_no_crisis_panel_but_help_stays_in_reach(app, client):
    walk_to(client, "gad7")
    page = text_of(client.get("/intake/gad7"))
    assert 'id="crisis-panel"' not in page and crisis_reachable(page)
    complete_intake(client)
    [stored] = all_submissions(app)
    assert stored.urgent is False and stored.awaiting_ack is False


def test_the_stored_submission_keeps_answers_totals_bands_and_flags(app, client):
    complete_intake(
        client,
        treatment={"trials-2-medication": " sertraline ", "trials-2-weeks": "6",
                   "trials-2-as_prescribed": "yes", "trials-2-response": "side_effects",
                   "other_ketamine": "yes", "ketamine_outcome": "helped_a_little"},
        health={"pregnancy": "yes", "brain_bleed": "yes"},
    )
    [stored] = all_submissions(app)
    phq9, gad7 = stored.response("phq9"), stored.response("gad7")
    assert phq9.answers == {**{str(i): 2 for i in range(1, 9)}, "9": 0, "10": 2}
    assert gad7.answers == {str(i): 1 for i in range(1, 8)}
    assert (phq9.total, phq9.band, phq9.urgent) == (16, "moderately_severe", False)
    assert (gad7.total, gad7.band, gad7.urgent) == (7, "mild", False)
    for response in (phq9, gad7):
        assert (response.occasion, response.language, response.instrument_version) == (
            "intake", "en", "1")
        assert response.patient_id == stored.patient_id
        assert response.completed_at == stored.submitted_at
    assert stored.adequate_failed_trials == 2
    assert len(stored.trials) == 3 and stored.trials[2]["response"] == "side_effects"
    assert stored.contraindications == ["brain_bleed"]
    assert stored.cautions == ["pregnancy"]
    assert stored.fit == "possible_fit"
    assert stored.needs_medical_review is True
    assert stored.other_treatments["ketamine"] is True
    assert stored.other_treatments["ketamine_outcome"] == "helped_a_little"
    assert stored.ruleset == "v1"
    assert "Reported: a history of bleeding in the brain" in stored.reasons["medical_review"]
    person = stored.patient
    assert (person.first_name, person.email) == ("Alex", "alex.testperson@example.com")
    assert person.date_of_birth.isoformat() == "1984-06-14"
    assert person.contact_method == "email"
    assert (person.email_key, person.phone_key) == ("alex.testperson@example.com", "5550104477")
    assert stored.language == "en"


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"phq9": {f"phq9_{i}": "0" for i in range(1, 10)}},
        {"phq9": {"phq9_9": "3"}, "health": {"mania": "yes"}},
        {"gad7": {f"gad7_{i}": "3" for i in range(1, 8)},
         "phq9": {f"phq9_{i}": "1" for i in range(1, 10)}},
        {"treatment": {"trials-1-weeks": "5"}},
        {"health": {"vascular_aneurysm": "yes"}},
    ],
)
def test_the_stored_flags_are_what_assess_gives_for_the_stored_answers(app, client, overrides):
    complete_intake(client, **overrides)
    [stored] = all_submissions(app)
    scores = {
        r.instrument: score(inst.by_key(r.instrument), r.answers) for r in stored.responses
    }
    result = assess(scores, [Trial(**row) for row in stored.trials], stored.safety)
    assert stored.fit == result.fit
    assert stored.urgent == result.urgent
    assert stored.needs_medical_review == result.needs_medical_review
    assert stored.adequate_failed_trials == result.adequate_failed_trials
    assert stored.contraindications == list(result.contraindications)
    assert stored.cautions == list(result.cautions)
    for response in stored.responses:
        scored = scores[response.instrument]
        assert (response.total, response.band, response.urgent) == (
            scored.total, scored.band, scored.alert)
    assert stored.reasons == result.reasons


def test_review_says_1_week_not_1_weeks(client):
    complete_intake(client, submit=False, treatment={"trials-1-weeks": "1"})
    page = text_of(client.get("/intake/review"))
    assert "1 week; taken as prescribed; helped a little" in page
    assert "8 weeks; taken as prescribed; did not help" in page
