"""Drafts: saved at every step, "Save and finish later", resuming with the date of birth."""

from __future__ import annotations

import base64
import datetime as dt
import re
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from screening import create_app
from screening.extensions import db
from screening.intake import drafts as drafts_module
from screening.intake.drafts import hash_token
from screening.models import Draft, ThrottleEvent

from .clinician_helpers import add_submission
from .conftest import _test_config, csrf_token, post_form
from .intake_helpers import (
    STEP_KEYS,
    all_drafts,
    all_submissions,
    complete_intake,
    same_browser,
    saved_draft_data,
    session_token,
    valid_steps,
    walk_to,
)

RIGHT_DOB = {"date_of_birth-day": "14", "date_of_birth-month": "6", "date_of_birth-year": "1984"}
WRONG_DOB = {"date_of_birth-day": "15", "date_of_birth-month": "6", "date_of_birth-year": "1984"}


def text_of(response) -> str:
    return response.get_data(as_text=True)


def save_later(client, key: str, **fields) -> str:
    """Press "Save and finish later" on step ``key``; returns the resume link shown."""
    response = post_form(client, f"/intake/{key}",
                         {**valid_steps()[key], **fields, "action": "save_later"})
    assert response.location == "/intake/saved", text_of(response)[:1000]
    page = text_of(client.get("/intake/saved"))
    match = re.search(r'<p class="resume-link"><a href="([^"]+)">', page)
    assert match, "no resume link on the saved page"
    return match.group(1)


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def from_address(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_each_step_is_saved_as_the_patient_continues(app, client):
    for key, data in valid_steps().items():
        post_form(client, f"/intake/{key}", data)
        assert key in saved_draft_data(app, client)
    assert all_submissions(app) == []


def test_save_and_finish_later_is_offered_once_there_is_a_date_of_birth(client):
    page = text_of(client.get("/intake/consent"))
    assert 'value="save_later"' not in page
    walk_to(client, "about")
    assert 'value="save_later"' not in text_of(client.get("/intake/about"))
    walk_to(client, "phq9")
    assert 'value="save_later"' in text_of(client.get("/intake/phq9"))


def test_save_and_finish_later_gives_a_resume_link_with_a_long_random_token(app, client):
    walk_to(client, "phq9")
    link = save_later(client, "phq9")
    token = link.rsplit("/", 1)[1]
    assert re.fullmatch(r"https?://[^/]+/intake/resume/[A-Za-z0-9_-]+", link)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert len(raw) * 8 >= 128
    assert "phq9" in all_drafts(app)[0].data


def test_each_draft_gets_a_different_token(make_app):
    app = make_app()
    links = set()
    for _ in range(3):
        client = app.test_client()
        walk_to(client, "phq9")
        links.add(save_later(client, "phq9"))
    assert len(links) == 3


def test_the_saved_page_says_until_when_answers_are_kept(client):
    walk_to(client, "phq9")
    post_form(client, "/intake/phq9", {**valid_steps()["phq9"], "action": "save_later"})
    page = text_of(client.get("/intake/saved"))
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=7)
    assert f"kept until {expires.strftime('%B')} {expires.day}" in page or (
        f"kept until {expires.day} {expires.strftime('%B')}" in page)


def test_the_resume_link_works_in_a_new_client_with_the_right_date_of_birth(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    other = app.test_client()
    page = text_of(other.get(path_of(link)))
    assert "enter your date of birth" in page
    assert "Alex" not in page  # nothing about the patient before the check
    response = post_form(other, path_of(link), RIGHT_DOB)
    assert response.location == "/intake/treatment"
    assert 'value="Alex"' in text_of(other.get("/intake/about"))
    for key in ("treatment", "health"):
        post_form(other, f"/intake/{key}", valid_steps()[key])
    post_form(other, "/intake/review", {})
    assert len(all_submissions(app)) == 1


def test_a_resumed_complete_draft_opens_at_review(app, client):
    walk_to(client, "health")
    link = save_later(client, "health")
    other = app.test_client()
    assert post_form(other, path_of(link), RIGHT_DOB).location == "/intake/review"


def test_the_wrong_date_of_birth_gives_a_clear_error_and_shows_nothing(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    other = app.test_client()
    response = post_form(other, path_of(link), WRONG_DOB)
    page = text_of(response)
    assert response.status_code == 422
    assert "We could not open your saved answers" in page
    assert "Check your date of birth and try again" in page
    assert "Alex" not in page
    assert session_token(other) is None
    assert other.get("/intake/gad7").location == "/"


def test_an_invalid_date_on_the_resume_page_is_explained(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    response = post_form(app.test_client(), path_of(link),
                         {**RIGHT_DOB, "date_of_birth-day": "31", "date_of_birth-month": "2"})
    assert response.status_code == 422
    assert "Enter a real date" in text_of(response)


def test_wrong_dates_of_birth_are_throttled_after_5_tries(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    other = app.test_client()
    for _ in range(5):
        assert post_form(other, path_of(link), WRONG_DOB).status_code == 422
    response = post_form(other, path_of(link), RIGHT_DOB)
    assert response.status_code == 429
    assert "Too many attempts" in text_of(response)
    assert session_token(other) is None


def test_the_throttle_holds_across_clients_and_workers(make_app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    for _ in range(5):
        worker = make_app()
        assert post_form(worker.test_client(), path_of(link), WRONG_DOB).status_code == 422
    assert post_form(make_app().test_client(), path_of(link), RIGHT_DOB).status_code == 429


def test_the_throttle_of_one_link_does_not_lock_another(app, make_app):
    first, second = app.test_client(), app.test_client()
    walk_to(first, "gad7")
    walk_to(second, "gad7")
    first_link, second_link = save_later(first, "gad7"), save_later(second, "gad7")
    attacker = from_address(make_app(), "192.0.2.66")
    for _ in range(5):
        post_form(attacker, path_of(first_link), WRONG_DOB)
    assert post_form(attacker, path_of(first_link), RIGHT_DOB).status_code == 429
    patient = from_address(app, "192.0.2.77")
    assert post_form(patient, path_of(second_link), RIGHT_DOB).status_code == 302


def test_the_throttle_key_is_the_link_hash_and_the_address_never_the_link(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    token = link.rsplit("/", 1)[1]
    post_form(app.test_client(), path_of(link), WRONG_DOB)
    with app.app_context():
        keys = {e.key for e in db.session.scalars(db.select(ThrottleEvent))
                if e.scope.startswith("resume")}
    assert token not in keys
    assert hash_token(token) in keys


def test_guessing_many_links_from_one_address_is_throttled(app):
    guesser = from_address(app, "198.51.100.9")
    statuses = [post_form(guesser, f"/intake/resume/guess{n}", WRONG_DOB).status_code
                for n in range(25)]
    assert statuses[0] == 422
    assert statuses[-1] == 429
    other = from_address(app, "198.51.100.10")
    assert post_form(other, "/intake/resume/guess-other", WRONG_DOB).status_code == 422


def test_an_expired_draft_link_does_not_work(app, client):
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    with app.app_context():
        draft = db.session.scalar(db.select(Draft))
        draft.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    response = post_form(app.test_client(), path_of(link), RIGHT_DOB)
    assert response.status_code == 422
    assert "We could not open your saved answers" in text_of(response)


def test_drafts_are_kept_7_days_from_the_last_save(app, client):
    walk_to(client, "phq9")
    [draft] = all_drafts(app)
    assert draft.expires_at - draft.updated_at == dt.timedelta(days=7)


def test_flask_drafts_purge_deletes_expired_drafts_only(app, runner):
    old_client, new_client = app.test_client(), app.test_client()
    walk_to(old_client, "phq9")
    walk_to(new_client, "phq9")
    old_token = session_token(old_client)
    with app.app_context():
        old = db.session.scalar(db.select(Draft).where(Draft.token_hash == hash_token(old_token)))
        old.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        db.session.commit()
    result = runner.invoke(args=["drafts", "purge"])
    assert result.exit_code == 0
    assert "Deleted 1 expired draft(s)." in result.output
    remaining = all_drafts(app)
    assert [d.token_hash for d in remaining] == [hash_token(session_token(new_client))]
    assert "Alex" not in result.output


def test_the_draft_token_is_stored_only_as_a_hash(app, client):
    walk_to(client, "phq9")
    token = session_token(client)
    [draft] = all_drafts(app)
    assert draft.token_hash == hash_token(token) != token
    assert len(draft.token_hash) == 64
    assert token not in str(draft.data)


def test_after_saving_for_later_this_browser_no_longer_opens_the_draft(app, client):
    # On a shared device the next person must not walk into the answers without the link
    # and the date of birth.
    walk_to(client, "gad7")
    link = save_later(client, "gad7")
    assert session_token(client) is None
    assert client.get("/intake/gad7").location == "/"
    assert "Continue where you left off" not in text_of(client.get("/"))
    assert client.get("/intake/saved").location == "/"
    # The same browser comes back the way anyone would: link plus date of birth.
    assert post_form(client, path_of(link), RIGHT_DOB).location == "/intake/treatment"


def test_the_saved_page_offers_to_continue_through_the_link(client):
    walk_to(client, "gad7")
    post_form(client, "/intake/gad7", {**valid_steps()["gad7"], "action": "save_later"})
    page = text_of(client.get("/intake/saved"))
    link = re.search(r'<p class="resume-link"><a href="([^"]+)">', page).group(1)
    continue_now = re.search(r'<a class="button secondary" href="([^"]+)">', page).group(1)
    assert path_of(continue_now) == path_of(link)


def test_save_later_on_an_unfinished_step_keeps_what_was_typed(app, client):
    walk_to(client, "phq9")
    partial = {f"phq9_{n}": "1" for n in range(1, 5)}
    response = post_form(client, "/intake/phq9", {**partial, "action": "save_later"})
    assert response.location == "/intake/saved"
    page = text_of(client.get("/intake/saved"))
    link = re.search(r'<p class="resume-link"><a href="([^"]+)">', page).group(1)
    draft = all_drafts(app)[0]
    assert "phq9" not in draft.data  # not counted as answered
    other = app.test_client()
    assert post_form(other, path_of(link), RIGHT_DOB).location == "/intake/phq9"
    page = text_of(other.get("/intake/phq9"))
    for n in range(1, 5):
        assert re.search(rf'name="phq9_{n}" value="1" checked', page)
    assert 'class="error-summary"' not in page
    # Finishing the step replaces the kept input with the answers.
    post_form(other, "/intake/phq9", valid_steps()["phq9"])
    assert "_partial" not in saved_draft_data(app, other)


def test_save_later_with_an_unfinished_treatment_row_keeps_it(app, client):
    walk_to(client, "treatment")
    response = post_form(client, "/intake/treatment", {
        "trials-0-medication": "Bupropion", "trials-0-weeks": "6.5", "action": "save_later"})
    assert response.location == "/intake/saved"
    data = all_drafts(app)[0].data
    assert "treatment" not in data
    page = text_of(client.get("/intake/saved"))
    link = re.search(r'<p class="resume-link"><a href="([^"]+)">', page).group(1)
    other = app.test_client()
    post_form(other, path_of(link), RIGHT_DOB)
    page = text_of(other.get("/intake/treatment"))
    assert 'value="Bupropion"' in page and 'value="6.5"' in page


def test_save_later_keeps_only_this_steps_fields_and_bounded_lengths(app, client):
    walk_to(client, "gad7")
    post_form(client, "/intake/gad7", {"gad7_1": "2", "gad7_2": "x" * 5000,
                                       "injected": "nope", "phq9_1": "3",
                                       "action": "save_later"})
    kept = all_drafts(app)[0].data["_partial"]
    assert kept["step"] == "gad7"
    assert set(kept["input"]) == {"gad7_1", "gad7_2"}
    assert len(kept["input"]["gad7_2"]) <= 2000
    assert "phq9" in all_drafts(app)[0].data
    assert all_drafts(app)[0].data["phq9"]["phq9_1"] == 2


def test_save_later_before_there_is_a_date_of_birth_just_shows_the_errors(app, client):
    walk_to(client, "about")
    response = post_form(client, "/intake/about", {"first_name": "Alex",
                                                   "action": "save_later"})
    assert response.status_code == 422
    assert "_partial" not in saved_draft_data(app, client)


def test_start_page_offers_to_continue_a_draft_in_progress(client):
    assert "Continue where you left off" not in text_of(client.get("/"))
    walk_to(client, "gad7")
    page = text_of(client.get("/"))
    assert "Continue where you left off" in page
    assert client.get("/intake/review").location == "/intake/gad7"


@pytest.mark.parametrize("token", ["x", "a" * 500, "%00", "é", "..%2F..%2Fetc"])
def test_odd_resume_links_never_fail_badly(client, token):
    page = client.get(f"/intake/resume/{token}")
    assert page.status_code in (200, 404)
    if page.status_code == 200:
        assert post_form(client, f"/intake/resume/{token}", RIGHT_DOB).status_code == 422


def test_steps_are_all_known(app):
    assert STEP_KEYS == list(valid_steps())


def test_two_tabs_saving_different_steps_at_once_keep_both(make_app, client, monkeypatch):
    """No lost update: each save reads the draft it writes under a lock (or SQLite's)."""
    complete_intake(client, submit=False)
    about_tab, gad7_tab = same_browser(make_app(), client), same_browser(make_app(), client)
    about_token = csrf_token(text_of(about_tab.get("/intake/about?return_to=review")))
    gad7_token = csrf_token(text_of(gad7_tab.get("/intake/gad7?return_to=review")))
    about_read, gad7_saved = threading.Event(), threading.Event()
    original = drafts_module.save_step

    def slow_about_save(draft, step, values, now, language):
        if step == "about":
            about_read.set()
            # Give the other tab every chance to save in between; with a lock it cannot.
            gad7_saved.wait(timeout=2)
        original(draft, step, values, now, language)

    monkeypatch.setattr(drafts_module, "save_step", slow_about_save)

    def save_about():
        about_tab.post("/intake/about?return_to=review", data={
            **valid_steps()["about"], "first_name": "Robin", "csrf_token": about_token})

    def save_gad7():
        about_read.wait(timeout=10)  # the about tab has read the draft and is saving
        gad7_tab.post("/intake/gad7?return_to=review", data={
            **{f"gad7_{i}": "3" for i in range(1, 8)}, "csrf_token": gad7_token})
        gad7_saved.set()

    threads = [threading.Thread(target=save_about), threading.Thread(target=save_gad7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [draft] = all_drafts(make_app())
    assert draft.data["about"]["first_name"] == "Robin"
    assert draft.data["gad7"]["gad7_1"] == 3


def test_drafts_purge_gives_sqlite_the_statistics_its_query_planner_needs(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'clinic.db'}"))
    with app.app_context():
        upgrade()
    for _ in range(3):
        add_submission(app)

    result = app.test_cli_runner().invoke(args=["drafts", "purge"])

    assert result.exit_code == 0, result.output
    with app.app_context():
        analysed = set(db.session.scalars(
            text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'submission'")))
        db.engine.dispose()
    assert {"ix_submission_queue", "ix_submission_status_fit"} <= analysed
