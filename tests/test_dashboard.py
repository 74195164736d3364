"""The clinician dashboard: counts, urgent-first order, filters, search, sorting, pages."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from sqlalchemy import delete, select

from screening.clinician import queries
from screening.clinician.erasure import erase_submission
from screening.clinician.listing import current_listing
from screening.core.trials import Trial
from screening.extensions import db
from screening.models import QuestionnaireResponse, Submission, User

from .auth_helpers import make_user
from .clinician_helpers import NOW, add_submission, signed_in, use_cheap_password_hashing

ONE_FAILED_TRIAL = (Trial("Sertraline", 8, True, "did_not_help"),)


def page_text(response) -> str:
    """The page as a reader hears it: tags removed, entities decoded, spaces collapsed."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def table_references(response) -> list[str]:
    """The references in the table, top to bottom."""
    body = response.get_data(as_text=True)
    return re.findall(r'href="/clinician/submissions/([A-Z0-9]{4}-[A-Z0-9]{4})"', body)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    use_cheap_password_hashing(monkeypatch)


@pytest.fixture
def clinician(app):
    return signed_in(app)


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in ("/clinician/", "/clinician/export.csv", "/clinician/submissions/ABCD-EFGH"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/clinician/login" in response.location


def test_counts_at_the_top(app, clinician):
    add_submission(app)  # likely fit, new
    add_submission(app, phq9=(2, 2, 2, 2, 2, 2, 2, 2, 1))  # urgent, likely fit, new
    add_submission(app, phq9=(3, 0, 0, 0, 0, 0, 0, 0, 2), review_status="in_review")  # urgent
    add_submission(app, phq9=(0,) * 9, gad7=(0,) * 7)  # unlikely fit, new
    add_submission(app, review_status="contacted")  # likely fit, not new
    text = page_text(clinician.get("/clinician/"))
    assert "2 urgent, not yet acknowledged" in text
    assert "3 new" in text
    assert "2 likely fit for a consultation, awaiting review" in text


def test_urgent_unacknowledged_come_first_then_newest(app, clinician):
    old_urgent = add_submission(
        app, phq9=(1, 1, 1, 1, 1, 1, 1, 1, 1), submitted_at=NOW - dt.timedelta(days=5)
    )
    acknowledged = add_submission(
        app, phq9=(1, 1, 1, 1, 1, 1, 1, 1, 1), submitted_at=NOW - dt.timedelta(hours=1),
        awaiting_ack=False, acknowledged_at=NOW,
    )
    newest = add_submission(app, submitted_at=NOW)
    older = add_submission(app, submitted_at=NOW - dt.timedelta(days=1))
    newer_urgent = add_submission(
        app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 3), submitted_at=NOW - dt.timedelta(days=2)
    )
    response = clinician.get("/clinician/")
    assert table_references(response) == [newer_urgent, old_urgent, newest, acknowledged, older]


def test_urgent_rows_show_how_long_they_have_waited_and_alert_failures(app, clinician):
    now = dt.datetime.now(dt.UTC)
    add_submission(app, phq9=(0, 0, 0, 0, 0, 0, 0, 0, 1), submitted_at=now - dt.timedelta(hours=3),
                   alert_status="failed")
    text = page_text(clinician.get("/clinician/"))
    assert "Urgent: waiting 3 hours" in text
    assert "Alert email failed" in text


def test_columns_show_scores_flags_and_status_in_staff_words(app, clinician):
    add_submission(app, first_name="Robin", last_name="Samplewood",
                   safety_yes=("mania",), review_status="in_review")
    text = page_text(clinician.get("/clinician/"))
    assert "Samplewood, Robin" in text
    assert "16 moderately severe" in text  # PHQ-9 total and band
    assert "likely fit for a consultation" in text
    assert "Needs medical review" in text
    assert "In review" in text
    assert "eligible" not in text.lower()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("fit=likely_fit", {"likely", "acked"}),
        ("fit=possible_fit", {"possible", "urgent"}),
        ("fit=unlikely_fit", {"unlikely"}),
        ("urgent=yes", {"urgent", "acked"}),
        ("urgent=awaiting", {"urgent"}),
        ("urgent=no", {"likely", "possible", "unlikely"}),
        ("status=closed", {"unlikely"}),
        ("medical=yes", {"possible"}),
        ("medical=no", {"likely", "unlikely", "urgent", "acked"}),
        ("since=2026-04-20&until=2026-04-25", {"possible", "urgent"}),
        ("since=2026-04-25", {"urgent", "likely", "acked"}),
        ("until=2026-04-20", {"possible", "unlikely"}),
        ("fit=possible_fit&medical=no", {"urgent"}),
    ],
)
def test_filters(app, clinician, query, expected):
    day = dt.timedelta(days=1)
    refs = {
        "likely": add_submission(app, submitted_at=NOW),
        "possible": add_submission(app, trials=ONE_FAILED_TRIAL, safety_yes=("heart_disease",),
                                   submitted_at=dt.datetime(2026, 4, 20, 0, 0, tzinfo=dt.UTC)),
        "unlikely": add_submission(app, phq9=(0,) * 9, gad7=(0,) * 7, review_status="closed",
                                   submitted_at=dt.datetime(2026, 4, 19, 23, 59, tzinfo=dt.UTC)),
        "urgent": add_submission(app, phq9=(1,) * 8 + (2,), trials=(),
                                 submitted_at=dt.datetime(2026, 4, 25, 23, 59, tzinfo=dt.UTC)),
        "acked": add_submission(app, phq9=(2,) * 9, awaiting_ack=False, acknowledged_at=NOW,
                                submitted_at=NOW - day),
    }
    response = clinician.get(f"/clinician/?{query}")
    assert response.status_code == 200
    assert set(table_references(response)) == {refs[name] for name in expected}


@pytest.mark.parametrize(
    ("search", "who"),
    [
        ("robin", {"robin"}),
        ("SAMPLEWOOD", {"robin", "rowan"}),
        ("rowan samplewood", {"rowan"}),
        ("@example.com", {"robin", "rowan", "drew"}),
        ("drew.fakeley", {"drew"}),
        ("  robin   ", {"robin"}),
        ("%", set()),
        ("_", set()),
    ],
)
def test_search_by_name_email_and_reference(app, clinician, search, who):
    refs = {
        "robin": add_submission(app, first_name="Robin", last_name="Samplewood"),
        "rowan": add_submission(app, first_name="Rowan", last_name="Samplewood"),
        "drew": add_submission(app, first_name="Drew", last_name="Fakeley",
                               email="drew.fakeley@example.com"),
    }
    response = clinician.get("/clinician/", query_string={"search": search})
    assert set(table_references(response)) == {refs[name] for name in who}


def test_search_by_reference_in_any_case(app, clinician):
    wanted = add_submission(app)
    add_submission(app)
    response = clinician.get("/clinician/", query_string={"search": wanted.lower()})
    assert table_references(response) == [wanted]


SORT_KEYS = ("reference", "name", "submitted", "phq9", "phq9_item9", "gad7", "trials", "fit",
             "medical", "status")


def test_the_table_sorts_by_each_of_its_columns(app):
    with app.app_context():
        assert tuple(current_listing().sorts) == SORT_KEYS
        assert [c.key for c in current_listing().columns] == list(SORT_KEYS)


@pytest.mark.parametrize("column", SORT_KEYS)
def test_every_column_sorts_both_ways(app, clinician, column):
    add_submission(app, first_name="Ann", last_name="Aexample", phq9=(0,) * 9, gad7=(0,) * 7,
                   trials=(), submitted_at=NOW - dt.timedelta(days=3), reference="AAAA-AAAA",
                   review_status="closed")
    add_submission(app, first_name="Bea", last_name="Bexample", phq9=(2,) + (1,) * 8,
                   gad7=(1,) * 7,
                   trials=ONE_FAILED_TRIAL, submitted_at=NOW - dt.timedelta(days=2),
                   reference="BBBB-BBBB", safety_yes=("heart_disease",), review_status="contacted")
    add_submission(app, first_name="Cy", last_name="Cexample", phq9=(2,) * 8 + (3,),
                   gad7=(3,) * 7, submitted_at=NOW - dt.timedelta(days=1), reference="CCCC-CCCC",
                   safety_yes=("mania",), review_status="in_review")
    # Chosen so every column orders A < B < C (fit codes, status codes and booleans included),
    # except "fit": likely_fit (C) < possible_fit (B) < unlikely_fit (A).
    ascending = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"]
    if column == "fit":
        ascending.reverse()
    if column == "medical":
        ascending = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC"]  # false first; B and C tie on id
    up = table_references(clinician.get(f"/clinician/?sort={column}&order=asc"))
    down = table_references(clinician.get(f"/clinician/?sort={column}&order=desc"))
    assert up == ascending
    assert down == list(reversed(ascending))


def test_column_headers_link_to_sorting_and_keep_the_filters(app, clinician):
    add_submission(app)
    body = clinician.get("/clinician/?fit=likely_fit&sort=phq9&order=desc").get_data(as_text=True)
    assert 'aria-sort="descending"' in body
    links = set(re.findall(r'href="(/clinician/\?[^"]*sort=[^"]*)"', body))
    assert html.unescape(
        "/clinician/?fit=likely_fit&amp;sort=phq9&amp;order=asc") in {html.unescape(x)
                                                                      for x in links}
    assert all("fit=likely_fit" in html.unescape(link) for link in links)


def test_an_unknown_sort_or_order_is_ignored_safely(app, clinician):
    first = add_submission(app, submitted_at=NOW)
    second = add_submission(app, submitted_at=NOW - dt.timedelta(hours=1))
    for query in ("sort=id;DROP TABLE submission", "sort=email", "order=sideways", "sort="):
        response = clinician.get(f"/clinician/?{query}")
        assert response.status_code == 200
        assert table_references(response) == [first, second]


def test_pages_of_fifty_in_sql_every_row_exactly_once(app, clinician):
    for i in range(queries.PER_PAGE * 2 + 7):
        add_submission(app, submitted_at=NOW - dt.timedelta(minutes=i))
    seen: list[str] = []
    for number in (1, 2, 3):
        response = clinician.get(f"/clinician/?page={number}")
        refs = table_references(response)
        assert len(refs) == (queries.PER_PAGE if number < 3 else 7)
        assert f"page {number} of 3" in page_text(response)
        seen += refs
    assert len(seen) == len(set(seen)) == queries.PER_PAGE * 2 + 7
    # Past the end: the last page, not an empty one or an error.
    assert table_references(clinician.get("/clinician/?page=99")) == seen[-7:]


def test_the_total_follows_every_submission_and_erasure(app, clinician):
    admin_id = make_user(app, "robin.admin@example.com", role="admin")
    references = [add_submission(app) for _ in range(queries.PER_PAGE + 2)]
    assert "52 submissions, page 1 of 2" in page_text(clinician.get("/clinician/"))
    with app.app_context():
        admin = db.session.get(User, admin_id)
        for reference in references[:3]:
            erase_submission(db.session.scalar(
                select(Submission).where(Submission.reference == reference)), "Asked.", admin)
        db.session.commit()
    assert "49 submissions." in page_text(clinician.get("/clinician/"))
    # Several rows in one statement (as the demo seeder inserts them) count one each.
    with app.app_context():
        removed = select(Submission.id).where(Submission.reference.in_(references[3:13]))
        db.session.execute(
            delete(QuestionnaireResponse).where(QuestionnaireResponse.submission_id.in_(removed))
        )
        db.session.execute(delete(Submission).where(Submission.reference.in_(references[3:13])))
        db.session.commit()
    assert "39 submissions." in page_text(clinician.get("/clinician/"))


@pytest.mark.parametrize("url", ["/clinician/", "/clinician/?search=testperson"])
def test_a_submission_erased_while_its_page_is_read_is_left_out(app, clinician, monkeypatch,
                                                                 url):
    """PostgreSQL reads the page's ids, then their rows, each in its own snapshot: an erasure
    committed in between leaves an id without a row."""
    kept = add_submission(app)
    gone = add_submission(app)
    read_rows = queries._listed

    def erased_in_between(ids):
        erased = select(Submission.id).where(Submission.reference == gone)
        db.session.execute(
            delete(QuestionnaireResponse).where(QuestionnaireResponse.submission_id.in_(erased))
        )
        db.session.execute(delete(Submission).where(Submission.reference == gone))
        return read_rows(ids)

    monkeypatch.setattr(queries, "_listed", erased_in_between)
    response = clinician.get(url)
    assert response.status_code == 200
    assert table_references(response) == [kept]


def test_next_page_link_keeps_filters_and_sort(app, clinician):
    for _ in range(queries.PER_PAGE + 1):
        add_submission(app)
    body = clinician.get("/clinician/?fit=likely_fit&sort=name").get_data(as_text=True)
    next_link = html.unescape(re.search(r'rel="next" href="([^"]+)"', body).group(1))
    assert "fit=likely_fit" in next_link and "sort=name" in next_link and "page=2" in next_link


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("fit=eligible", "Fit: Not a valid choice."),
        ("urgent=maybe", "Urgent: Not a valid choice."),
        ("status=deleted", "Status: Not a valid choice."),
        ("medical=2", "Needs medical review: Not a valid choice."),
        ("since=2026-13-45", "Submitted from: Not a valid date value."),
        ("since=2026-05-02&until=2026-05-01", "The end date is before the start date."),
        ("page=abc", "Page: Not a valid integer value."),
        ("page=-4", "Page: Number must be between 1 and 1000000."),
        ("search=" + "x" * 101, "Search name, email or reference: Field cannot be longer"),
        ("search=alex%00", "Search name, email or reference: Remove the invisible control"),
    ],
)
def test_invalid_filters_are_named_and_ignored_never_a_server_error(app, clinician, query,
                                                                    message):
    shown = add_submission(app)
    response = clinician.get(f"/clinician/?{query}")
    assert response.status_code == 200
    text = page_text(response)
    assert "Some filters were not valid" in text
    assert message in text
    assert "This filter was ignored." in text
    assert table_references(response) == [shown]


def test_export_links_carry_the_same_filters(app, clinician):
    add_submission(app)
    body = clinician.get(
        "/clinician/?fit=likely_fit&status=new&since=2026-01-01&search=alex&sort=name"
    ).get_data(as_text=True)
    links = [html.unescape(x) for x in re.findall(r'href="(/clinician/export\.csv[^"]*)"', body)]
    assert len(links) == 2
    for link in links:
        for part in ("fit=likely_fit", "status=new", "since=2026-01-01", "search=alex"):
            assert part in link
    assert sum("deidentified=1" in link for link in links) == 1


def test_patient_text_is_escaped_on_the_dashboard(app, clinician):
    add_submission(app, first_name="<script>alert(1)</script>", last_name='"><img src=x>')
    body = clinician.get("/clinician/").get_data(as_text=True)
    assert "<script>alert(1)" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "<img src=x>" not in body


def test_the_dashboard_page_is_not_cached(app, clinician):
    response = clinician.get("/clinician/")
    assert response.headers["Cache-Control"] == "no-store"
