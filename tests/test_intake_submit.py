"""The final submit: one transaction, one submission per draft, confirmation after commit."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.exc import OperationalError

from screening.extensions import db
from screening.intake import submission as submission_module

from .conftest import csrf_token, post_form
from .intake_helpers import (
    all_drafts,
    all_submissions,
    complete_intake,
    same_browser,
    session_token,
    walk_to,
)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def test_submit_stores_the_submission_and_deletes_the_draft_together(app, client):
    response = complete_intake(client)
    assert response.location == "/intake/done"
    assert "Your answers have been sent" in text_of(client.get("/intake/done"))
    [stored] = all_submissions(app)
    assert stored.fit == "likely_fit"  # PHQ-9 16, two adequate failed trials, nothing reported
    assert all_drafts(app) == []


def test_the_reference_is_not_the_database_id(app, client):
    complete_intake(client)
    [stored] = all_submissions(app)
    assert not stored.reference.isdigit()
    assert str(stored.id) not in stored.reference.split("-")


def test_posting_review_twice_stores_one_submission(app, client):
    complete_intake(client, submit=False)
    token = csrf_token(text_of(client.get("/intake/review")))
    first = client.post("/intake/review", data={"csrf_token": token})
    second = client.post("/intake/review", data={"csrf_token": token})
    assert first.location == second.location == "/intake/done"
    [stored] = all_submissions(app)
    assert stored.reference in text_of(client.get("/intake/done"))


def test_two_requests_with_the_same_cookie_store_one_submission(app, make_app, client):
    complete_intake(client, submit=False)
    twin = same_browser(make_app(), client)  # another worker, the same browser
    token = csrf_token(text_of(client.get("/intake/review")))
    twin_token = csrf_token(text_of(twin.get("/intake/review")))
    assert client.post("/intake/review", data={"csrf_token": token}).status_code == 302
    assert twin.post("/intake/review", data={"csrf_token": twin_token}).status_code == 302
    [stored] = all_submissions(app)
    for browser in (client, twin):
        assert stored.reference in text_of(browser.get("/intake/done"))


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_submits_from_two_workers_store_one_submission(make_app, client, attempt):
    first_app = make_app()
    complete_intake(client, submit=False)
    browsers = [same_browser(first_app, client), same_browser(make_app(), client)]
    tokens = [csrf_token(text_of(b.get("/intake/review"))) for b in browsers]
    barrier = threading.Barrier(len(browsers))
    results: list[object] = [None] * len(browsers)

    def send(index: int) -> None:
        barrier.wait()
        try:
            results[index] = browsers[index].post(
                "/intake/review", data={"csrf_token": tokens[index]}).status_code
        except Exception as error:  # reported below, with the other thread's result
            results[index] = error

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(browsers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [302, 302]
    [stored] = all_submissions(first_app)
    for browser in browsers:
        assert stored.reference in text_of(browser.get("/intake/done"))


def test_a_reference_collision_is_retried_not_shown_as_an_error(app, client, monkeypatch):
    complete_intake(client)
    [first] = all_submissions(app)
    references = iter([first.reference, "ZZZZ-2222"])
    monkeypatch.setattr(submission_module, "new_reference", lambda: next(references))
    second = app.test_client()
    complete_intake(second)
    assert sorted(s.reference for s in all_submissions(app)) == sorted(
        [first.reference, "ZZZZ-2222"])
    assert "ZZZZ-2222" in text_of(second.get("/intake/done"))


def test_a_failed_commit_at_submit_keeps_the_draft_and_shows_no_confirmation(
    make_app, monkeypatch
):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    complete_intake(client, submit=False)
    token = csrf_token(text_of(client.get("/intake/review")))

    def failing_commit() -> None:
        db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", failing_commit)
        response = client.post("/intake/review", data={"csrf_token": token})
    assert response.status_code == 503
    assert "Your reference is" not in text_of(response)
    assert all_submissions(app) == []
    with client.session_transaction() as session:
        assert "submitted_reference" not in session
    # The patient's answers are all still there to send again.
    review = client.get("/intake/review")
    assert review.status_code == 200 and "Alex Testperson" in text_of(review)
    assert client.get("/intake/done").location == "/"


def test_a_failed_commit_on_a_step_stores_nothing_of_it(make_app, monkeypatch):
    app = make_app(PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    walk_to(client, "gad7")
    drafts_before = [d.data for d in all_drafts(app)]

    def failing_commit() -> None:
        db.session.flush()
        raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    page = text_of(client.get("/intake/gad7"))
    with monkeypatch.context() as patch:
        patch.setattr(db.session, "commit", failing_commit)
        response = client.post("/intake/gad7", data={
            "csrf_token": csrf_token(page), **{f"gad7_{i}": "1" for i in range(1, 8)}})
    assert response.status_code == 503
    assert [d.data for d in all_drafts(app)] == drafts_before


def test_a_new_intake_after_submitting_starts_fresh(app, client):
    complete_intake(client)
    first_token = session_token(client)
    assert "Start" in text_of(client.get("/"))
    complete_intake(client)
    assert session_token(client) != first_token
    assert len(all_submissions(app)) == 2


def test_review_without_a_csrf_token_sends_nothing(app, client):
    complete_intake(client, submit=False)
    assert client.post("/intake/review", data={}).status_code == 400
    assert all_submissions(app) == []
    assert post_form(client, "/intake/review", {}).location == "/intake/done"
