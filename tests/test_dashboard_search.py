"""The dashboard's search through its trigram index: words of any length, text that looks like
query syntax, the index kept in step with changes and erasure, one total for all pages."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from screening.clinician import queries
from screening.clinician.erasure import erase_submission, scrub_leftovers
from screening.extensions import db
from screening.intake.submission import search_text
from screening.models import Submission, User

from .auth_helpers import make_user
from .clinician_helpers import add_submission, signed_in, use_cheap_password_hashing
from .test_dashboard import page_text, table_references


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch):
    use_cheap_password_hashing(monkeypatch)


@pytest.fixture
def clinician(app):
    return signed_in(app)


def found(client, search: str, **args: str) -> set[str]:
    response = client.get("/clinician/", query_string={"search": search, **args})
    assert response.status_code == 200
    return set(table_references(response))


@pytest.fixture
def people(app) -> dict[str, str]:
    # References of digits only, so that a one-letter search cannot match them by chance.
    return {
        "robin": add_submission(app, first_name="Robin", last_name="Samplewood",
                                email="robin.s@example.com", reference="2222-2222"),
        "rowan": add_submission(app, first_name="Rowan", last_name="Samplewood",
                                email="rowan.s@example.org", reference="3333-3333"),
        "jo": add_submission(app, first_name="Jo", last_name="Li", email="jl@and.example.net",
                             reference="4444-4444"),
        "quote": add_submission(app, first_name='Qu"ote', last_name="Or-Not*",
                                email="near@example.com", reference="5555-5555"),
    }


@pytest.mark.parametrize(
    ("search", "who"),
    [
        ("samplewood", {"robin", "rowan"}),
        ("ro samplewood", {"robin", "rowan"}),  # a short word among the rows found
        ("wan samplewood", {"rowan"}),
        ("ro", {"robin", "rowan"}),  # short words only: a scan, still a substring
        ("r", {"robin", "rowan", "quote"}),
        ("li", {"jo"}),
        ("jo li", {"jo"}),
        ("JO LI", {"jo"}),
        (".org", {"rowan"}),
        ("example", {"robin", "rowan", "jo", "quote"}),
        ("3333-3333", {"rowan"}),
        ("333", {"rowan"}),
        ("samplewood nobody", set()),
        ("robin rowan", set()),  # every word must appear
    ],
)
def test_every_word_is_a_substring_whatever_its_length(clinician, people, search, who):
    assert found(clinician, search) == {people[name] for name in who}


@pytest.mark.parametrize(
    ("search", "who"),
    [
        ('u"o', {"quote"}),
        ('qu"ote', {"quote"}),
        ('"quote"', set()),
        ('"', {"quote"}),
        ("or-not*", {"quote"}),
        ("not", {"quote"}),
        ("near", {"quote"}),
        ("NEAR(robin", set()),
        ("*", {"quote"}),
        ("rob*", set()),
        ("^robin", set()),
        ("robin:", set()),
        ("AND", {"jo"}),
        ("and OR", set()),
    ],
)
def test_query_syntax_in_a_search_is_plain_text(clinician, people, search, who):
    assert found(clinician, search) == {people[name] for name in who}


def test_a_changed_name_is_found_by_the_new_name_only(app, clinician, people):
    with app.app_context():
        db.session.execute(
            update(Submission)
            .where(Submission.reference == people["robin"])
            .values(search_text=search_text("Robin", "Newname", "robin.s@example.com",
                                            people["robin"]))
        )
        db.session.commit()
    assert found(clinician, "newname") == {people["robin"]}
    assert found(clinician, "samplewood") == {people["rowan"]}
    assert found(clinician, "robin samplewood") == set()


def test_an_erased_submission_is_no_longer_found(app, clinician, people):
    erased = add_submission(app, first_name="Erinna", last_name="Deletewell",
                            email="erinna@example.com", reference="6666-6666")
    admin_id = make_user(app, "robin.admin@example.com", role="admin")
    with app.app_context():
        row = db.session.scalar(select(Submission).where(Submission.reference == erased))
        erase_submission(row, "Asked to be erased.", db.session.get(User, admin_id))
        db.session.commit()
        scrub_leftovers()
    # The next submission may get the erased one's id (SQLite reuses the highest): what was
    # indexed for the erased one must not find it.
    newcomer = add_submission(app, first_name="Newt", last_name="Comer", reference="7777-7777")
    for search in ("erinna", "deletewell", "erinna deletewell", "6666"):
        assert found(clinician, search) == set()
    assert found(clinician, "comer") == {newcomer}
    assert found(clinician, "samplewood") == {people["robin"], people["rowan"]}


def test_a_search_counts_its_matches_once_for_every_page(app, clinician):
    extra = 7
    matching = {add_submission(app, first_name="Pat", last_name="Pagewood")
                for _ in range(queries.PER_PAGE + extra)}
    add_submission(app, first_name="Pat", last_name="Otherwood")
    first = clinician.get("/clinician/?search=pagewood")
    second = clinician.get("/clinician/?search=pagewood&page=2")
    assert f"{queries.PER_PAGE + extra} submissions match these filters, page 1 of 2" in (
        page_text(first))
    assert f"{queries.PER_PAGE + extra} submissions match these filters, page 2 of 2" in (
        page_text(second))
    shown = table_references(first) + table_references(second)
    assert len(shown) == len(set(shown)) and set(shown) == matching
    # Past the end: the last page, with the same total.
    beyond = clinician.get("/clinician/?search=pagewood&page=9")
    assert table_references(beyond) == table_references(second)
    assert "page 2 of 2" in page_text(beyond)


def test_a_search_that_finds_nothing_says_so(app, clinician, people):
    for page in ("1", "3"):
        response = clinician.get("/clinician/", query_string={"search": "zzzz", "page": page})
        assert table_references(response) == []
        assert "0 submissions match these filters" in page_text(response)
        assert "No submissions match these filters" in page_text(response)


def test_a_search_combines_with_filters_and_sorting(app, clinician):
    low = add_submission(app, last_name="Sortwood", phq9=(1,) * 8 + (0,))
    high = add_submission(app, last_name="Sortwood", phq9=(3,) * 8 + (0,))
    add_submission(app, last_name="Sortwood", phq9=(3,) * 8 + (0,), review_status="closed")
    add_submission(app, last_name="Otherwood", phq9=(2,) * 8 + (0,))
    response = clinician.get("/clinician/?search=sortwood&status=new&sort=phq9&order=desc")
    assert table_references(response) == [high, low]


@pytest.mark.parametrize(
    ("search", "who"),
    [
        ("ΣΊΣ", set()),  # lowered to "σίς"; a search that folds ς to σ would find Σίσυφος
        ("σίσ", {"sisyphus"}),
        ("str", {"strasse"}),  # found in "Straße", not in "ſtraße" (ſ is not folded to s)
        ("ſtr", {"long_s"}),
        ("STRASSE", set()),  # "ß" is not "ss" either
    ],
)
def test_a_search_matches_letters_as_lower_cased_not_folded(app, clinician, search, who):
    people = {
        "sisyphus": add_submission(app, first_name="Σίσυφος", last_name="Li",
                                   email="s@example.com", reference="2222-2222"),
        "strasse": add_submission(app, first_name="Ann", last_name="Straße",
                                  email="a@example.com", reference="3333-3333"),
        "long_s": add_submission(app, first_name="Eva", last_name="ſtraße",
                                 email="e@example.com", reference="4444-4444"),
    }
    assert found(clinician, search) == {people[name] for name in who}


TRICKY_PEOPLE = (
    ("Zoë", "O'Brien"), ('Qu"ote', "Ørsted"), ("Ann-Marie", "Straße"), ("Σίσυφος", "李"),
    ("x_y%z", "Back\\slash"), ("İlkay", "ǅemal"), ("Robin", "Samplewood"), ("Eſther", "ſtraße"),
)
TEXTS = [search_text(first, last, f"p{i}@example.com", f"{i}{i}{i}{i}-{i}{i}{i}{i}")
         for i, (first, last) in enumerate(TRICKY_PEOPLE, 2)]
#: Words: bits of the people's search texts (to find someone), or anything printable.
BITS = st.sampled_from(TEXTS).flatmap(
        lambda text: st.tuples(st.integers(0, len(text) - 1), st.integers(1, 8)).map(
            lambda cut: text[cut[0]:cut[0] + cut[1]].upper() if cut[1] % 3 == 0
            else text[cut[0]:cut[0] + cut[1]]))
PRINTABLE = st.text(st.characters(blacklist_categories=["Cc", "Cs", "Co", "Cn"]), min_size=1,
                    max_size=5)
WORDS = st.one_of(BITS, BITS, BITS, PRINTABLE)


@pytest.fixture
def tricky(app) -> dict[str, str]:
    """Each stored search text, by reference."""
    people = {}
    for i, (first, last) in enumerate(TRICKY_PEOPLE, 2):
        reference = f"{i}{i}{i}{i}-{i}{i}{i}{i}"
        add_submission(app, first_name=first, last_name=last, email=f"p{i}@example.com",
                       reference=reference)
        people[reference] = TEXTS[i - 2]
    return people


@example(words=["ΣΊΣ"])  # lowered to "σίς": not in "σίσυφος" (no folding of ς to σ)
@example(words=["str"])  # not in "ſtraße" (no folding of ſ to s)
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(words=st.lists(WORDS, min_size=1, max_size=4))
def test_any_search_finds_exactly_the_rows_containing_every_word(clinician, tricky, words):
    search = " ".join(words)[:100]
    wanted = search.lower().split()[: queries.MAX_SEARCH_WORDS]
    expected = {ref for ref, text in tricky.items() if all(word in text for word in wanted)}
    if not wanted:  # only spaces: no search at all
        expected = set(tricky)
    assert found(clinician, search) == expected
