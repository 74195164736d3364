"""Property-based tests: hostile input to every POST endpoint.

For random and adversarial form data (wrong types, out-of-range numbers, huge strings, control
characters, null bytes, unusual unicode, missing, repeated and extra fields, tampered hidden
fields) the app never answers 5xx; a refused request stores nothing; an accepted one stores
exactly what was sent, and only values the question allows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from screening.core import instruments as inst
from screening.core.dates import ADULT_AGE, OLDEST_PLAUSIBLE_AGE, age_on
from screening.extensions import db
from screening.intake import drafts
from screening.models import Draft, Submission

from .conftest import csrf_token
from .intake_helpers import complete_intake, valid_steps

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

Pairs = list[tuple[str, str]]

# --- strategies ---------------------------------------------------------------------------

#: Any text a browser could send (surrogates cannot be encoded, so no browser sends them).
ANY_TEXT = st.text(st.characters(blacklist_categories=["Cs"]), max_size=80)
NASTY = st.sampled_from(
    [
        "", " ", "\t", "\x00", "a\x00b", "\r\n", "\x1b[31m", "\u202eevil", "\ufeff", "\u200b",
        "0", "-1", "4", "3.0", "1e3", "0x2", "+2", " 2 ", "02", "99999999999999999999999",
        "-0", "NaN", "inf", "²", "١", "٣", "𝟘", "Ⅻ", "½", "true", "None", "null", "[]", "{}",
        "yes ", "YES", "Email", "<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
        "' OR '1'='1' --", "=HYPERLINK(\"http://example.com\")", "../../etc/passwd", "%00",
        "x" * 101, "x" * 2_001, "y" * 10_000, "z" * 70_000,
    ]
)


def hostile(*valid: str) -> st.SearchStrategy[str]:
    """A value for a field: valid, adversarial or random."""
    options = [NASTY, ANY_TEXT, st.integers(-(10**20), 10**20).map(str)]
    if valid:
        options.insert(0, st.sampled_from(list(valid)))
    return st.one_of(options)


def field_values(*valid: str) -> st.SearchStrategy[list[str]]:
    """Missing (no value), once, or repeated."""
    return st.lists(hostile(*valid), max_size=2)


JUNK_FIELDS = st.lists(
    st.tuples(st.one_of(ANY_TEXT, st.sampled_from(["id", "reference", "fit", "urgent",
                                                    "draft_token", "csrf_token", "ruleset"])),
              hostile()),
    max_size=3,
)


@st.composite
def form(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[list[str]]]) -> Pairs:
    """Form pairs: each field missing, once or repeated, then some unexpected fields."""
    pairs: Pairs = []
    for name, values in fields.items():
        pairs += [(name, value) for value in draw(values)]
    return pairs + draw(JUNK_FIELDS)


CSRF = st.sampled_from(["valid", "valid", "valid", "missing", "garbage", "garbage-then-valid"])
HIDDEN = st.fixed_dictionaries(
    {},
    optional={
        "return_to": hostile("review"),
        "action": hostile("save_later", "continue"),
    },
)


def with_csrf(pairs: Pairs, mode: str, token: str) -> Pairs:
    if mode == "valid":
        return [("csrf_token", token), *pairs]
    if mode == "garbage":
        return [("csrf_token", token[::-1]), *pairs]
    if mode == "garbage-then-valid":
        return [("csrf_token", "x" + token), ("csrf_token", token), *pairs]
    return pairs


def first_values(pairs: Pairs) -> dict[str, str]:
    """What a form reads: the first value sent for each name."""
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values


def blank(value: str | None) -> bool:
    return value is None or not value.strip()


CONTROL = {chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127]}


def clean_text(value: Any, max_length: int, required: bool = True) -> bool:
    return (
        isinstance(value, str)
        and (bool(value) or not required)
        and len(value) <= max_length
        and value == value.strip()
        and not CONTROL & set(value)
    )


# --- expected storage, step by step --------------------------------------------------------

YES_NO = [o.code for o in inst.YES_NO]
RESPONSES = [o.code for o in inst.RESPONSE_OPTIONS]
CONTACTS = [o.code for o in inst.CONTACT_METHODS]
DOB_PARTS = ("day", "month", "year")


def expected_consent(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    assert stored["consent"] is True
    assert sent["consent"] not in ("", "false")
    dt.datetime.fromisoformat(stored["consented_at"])


def expected_about(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    for name, limit in (("first_name", 100), ("last_name", 100), ("email", 254),
                        ("phone", 40)):
        assert stored[name] == sent[name].strip()
        assert clean_text(stored[name], limit)
    assert "@" in stored["email"]
    assert stored["contact_method"] == sent["contact_method"] in CONTACTS
    parts = {p: sent.get(f"date_of_birth-{p}", "").strip()[:8] for p in DOB_PARTS}
    born = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
    assert stored["date_of_birth"] == born.isoformat()
    assert ADULT_AGE <= age_on(born, dt.date.today()) <= OLDEST_PLAUSIBLE_AGE


def expected_questionnaire(questionnaire: inst.Questionnaire) -> Callable[..., None]:
    def check(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
        values = [c.value for c in questionnaire.choices]
        for item in questionnaire.items:
            name = questionnaire.field(item)
            assert stored[name] == int(sent[name]) and stored[name] in values
        if questionnaire is inst.PHQ9:
            name = inst.PHQ9_DIFFICULTY_FIELD
            difficulty = stored[name]
            if name not in sent:  # not sent at all: the answer saved before stays
                assert difficulty == prior.get(name)
            else:
                assert difficulty == (None if blank(sent[name]) else int(sent[name]))
            assert difficulty in (None, *[c.value for c in inst.DIFFICULTY_CHOICES])
            if any(stored[questionnaire.field(i)] for i in questionnaire.items):
                assert difficulty is not None

    return check


def expected_treatment(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    subfields = ("medication", "weeks", "as_prescribed", "response")
    indices = sorted({int(k.split("-")[1]) for k in sent if k.startswith("trials-")
                      and k.split("-")[1].isascii() and k.split("-")[1].isdigit()})
    rows = []
    for index in indices:
        row = {f: sent.get(f"trials-{index}-{f}") for f in subfields}
        row["medication"] = (row["medication"] or "").strip()
        row["weeks"] = (row["weeks"] or "").strip()
        if any(row.values()):
            # Weeks may be kept as the number typed ("08" is 8).
            rows.append({**row, "weeks": int(row["weeks"]) if row["weeks"].isdigit() else None})
    kept = [{**row, "weeks": int(row["weeks"])} for row in stored["trials"]]
    assert kept == rows  # every filled row, in order: none silently dropped
    assert len(kept) <= inst.MAX_TRIAL_ROWS
    for row in stored["trials"]:
        assert clean_text(row["medication"], inst.MAX_MEDICATION_NAME)
        assert 0 <= int(row["weeks"]) <= inst.MAX_TRIAL_WEEKS
        assert row["as_prescribed"] in YES_NO and row["response"] in RESPONSES
    for treatment in inst.OTHER_TREATMENTS:
        name = f"other_{treatment.code}"
        assert stored[name] == sent[name] in YES_NO
    if "ketamine_outcome" not in sent:  # not sent at all: the answer saved before stays
        outcome = prior.get("ketamine_outcome")
    else:
        outcome = None if blank(sent["ketamine_outcome"]) else sent["ketamine_outcome"]
    if stored["other_ketamine"] == "yes":
        assert stored["ketamine_outcome"] == outcome in RESPONSES
    else:  # an answer to a question that did not apply may be dropped
        assert stored["ketamine_outcome"] in (None, outcome)
    assert stored["treatment_notes"] == (sent.get("treatment_notes") or "").strip()
    assert clean_text(stored["treatment_notes"], inst.MAX_FREE_TEXT, required=False)


def expected_health(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    for question in inst.SAFETY_QUESTIONS:
        assert stored[question.code] == sent[question.code] in YES_NO


EXPECTED = {
    "consent": expected_consent,
    "about": expected_about,
    "phq9": expected_questionnaire(inst.PHQ9),
    "gad7": expected_questionnaire(inst.GAD7),
    "treatment": expected_treatment,
    "health": expected_health,
}

# --- hostile forms, step by step -----------------------------------------------------------

FREQUENCY = [str(c.value) for c in inst.FREQUENCY]
TRIAL_INDEX = st.one_of(
    st.integers(0, inst.MAX_TRIAL_ROWS + 3).map(str),
    st.sampled_from(["00", "-1", "1.0", "²", "٣", " 1", "99999999999999999999", ""]),
)


@st.composite
def trial_rows(draw: st.DrawFn) -> Pairs:
    pairs: Pairs = []
    # Every input of a row is sent, as a browser does once any of them has an answer (a row
    # with an input left out keeps that answer from the saved draft, like any form field).
    subfields = {"medication": ("Sertraline",), "weeks": ("0", "6", "520"),
                 "as_prescribed": YES_NO, "response": RESPONSES}
    for index in draw(st.lists(TRIAL_INDEX, max_size=6)):
        for name, valid in subfields.items():
            values = draw(st.lists(hostile(*valid), min_size=1, max_size=2))
            pairs += [(f"trials-{index}-{name}", value) for value in values]
    return pairs


HOSTILE_FORMS: dict[str, st.SearchStrategy[Pairs]] = {
    "consent": form({"consent": field_values("y"), "website": st.lists(hostile(), max_size=1)}),
    "about": form(
        {
            "first_name": field_values("Alex"),
            "last_name": field_values("Testperson"),
            "date_of_birth-day": field_values("14", "29", "31"),
            "date_of_birth-month": field_values("2", "6", "13"),
            "date_of_birth-year": field_values("1984", "1900", str(dt.date.today().year)),
            "email": field_values("alex@example.com", "alex@", "@example.com"),
            "phone": field_values("555 010 4477", "+1 (555) 010-4477", "123"),
            "contact_method": field_values(*CONTACTS),
        }
    ),
    "phq9": form(
        {f"phq9_{i}": field_values(*FREQUENCY) for i in range(1, 10)}
        | {inst.PHQ9_DIFFICULTY_FIELD: field_values(*FREQUENCY)}
    ),
    "gad7": form({f"gad7_{i}": field_values(*FREQUENCY) for i in range(1, 8)}),
    "treatment": st.builds(
        lambda rows, rest: rows + rest,
        trial_rows(),
        form(
            {f"other_{t.code}": field_values(*YES_NO) for t in inst.OTHER_TREATMENTS}
            | {"ketamine_outcome": field_values(*RESPONSES),
               "treatment_notes": field_values("Weekly therapy since 2022.")}
        ),
    ),
    "health": form({q.code: field_values(*YES_NO) for q in inst.SAFETY_QUESTIONS}),
}

# --- valid forms, step by step -------------------------------------------------------------

NAME = st.text(st.characters(categories=["L", "M"]), min_size=1, max_size=100).filter(
    lambda s: s.strip() == s and len(s) <= 100
)
PLAIN_TEXT = st.text(
    st.characters(categories=["L", "M", "N", "P", "S", "Zs"], exclude_characters="\u2028"),
    max_size=300,
)


@st.composite
def valid_about(draw: st.DrawFn) -> Pairs:
    today = dt.date.today()
    born = draw(st.dates(dt.date(today.year - 100, 1, 1), dt.date(today.year - 19, 12, 31)))
    local = draw(st.from_regex(r"[a-z0-9]{1,20}(\.[a-z0-9]{1,10})?", fullmatch=True))
    phone = draw(st.from_regex(r"\+?[0-9]{3} [0-9]{3} [0-9]{4,7}", fullmatch=True))
    return [
        ("first_name", draw(NAME)),
        ("last_name", " " + draw(NAME) + " "),
        ("date_of_birth-day", str(born.day)),
        ("date_of_birth-month", str(born.month)),
        ("date_of_birth-year", str(born.year)),
        ("email", f"{local}@example.com"),
        ("phone", phone),
        ("contact_method", draw(st.sampled_from(CONTACTS))),
    ]


@st.composite
def valid_questionnaire(draw: st.DrawFn, questionnaire: inst.Questionnaire) -> Pairs:
    pairs = [(questionnaire.field(i), str(draw(st.integers(0, 3)))) for i in questionnaire.items]
    if questionnaire is inst.PHQ9:
        needed = any(value != "0" for _, value in pairs)
        if needed or draw(st.booleans()):
            pairs.append((inst.PHQ9_DIFFICULTY_FIELD, str(draw(st.integers(0, 3)))))
    return pairs


@st.composite
def valid_treatment(draw: st.DrawFn) -> Pairs:
    pairs: Pairs = []
    count = draw(st.integers(0, inst.MAX_TRIAL_ROWS))
    for index in range(count):
        pairs += [
            (f"trials-{index}-medication", draw(NAME.filter(lambda s: len(s) <= 100))),
            (f"trials-{index}-weeks", str(draw(st.integers(0, inst.MAX_TRIAL_WEEKS)))),
            (f"trials-{index}-as_prescribed", draw(st.sampled_from(YES_NO))),
            (f"trials-{index}-response", draw(st.sampled_from(RESPONSES))),
        ]
    answers = {t.code: draw(st.sampled_from(YES_NO)) for t in inst.OTHER_TREATMENTS}
    pairs += [(f"other_{code}", answer) for code, answer in answers.items()]
    if answers["ketamine"] == "yes":
        pairs.append(("ketamine_outcome", draw(st.sampled_from(RESPONSES))))
    pairs.append(("treatment_notes", draw(PLAIN_TEXT)))
    return pairs


VALID_FORMS: dict[str, st.SearchStrategy[Pairs]] = {
    "consent": st.just([("consent", "y")]),
    "about": valid_about(),
    "phq9": valid_questionnaire(inst.PHQ9),
    "gad7": valid_questionnaire(inst.GAD7),
    "treatment": valid_treatment(),
    "health": st.builds(
        lambda answers: list(answers.items()),
        st.fixed_dictionaries({q.code: st.sampled_from(YES_NO) for q in inst.SAFETY_QUESTIONS}),
    ),
}

# --- helpers -------------------------------------------------------------------------------


@pytest.fixture
def app(make_app) -> Flask:
    # Many intakes from one test address: the per-address limit is tested in test_errors.py.
    return make_app(INTAKE_MAX_PER_ADDRESS=1_000_000)


def draft_data(app: Flask, client: FlaskClient) -> dict[str, Any] | None:
    with client.session_transaction() as session:
        token = session.get("draft_token")
    if token is None:
        return None
    with app.app_context():
        draft = db.session.scalar(
            db.select(Draft).where(Draft.token_hash == drafts.hash_token(token))
        )
        return dict(draft.data) if draft else None


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(db.select(db.func.count(Draft.id))),
            db.session.scalar(db.select(db.func.count(Submission.id))),
        )


def accepted(response: Any) -> bool:
    """A step accepted moves on: a redirect to another intake page (not back to the start)."""
    return response.status_code == 302 and "/intake/" in response.location


class StepPoster:
    """A patient who has answered every step, ready to send anything to one of them."""

    def __init__(self, app: Flask, step: str) -> None:
        self.app, self.step = app, step
        self.client = app.test_client()
        if step != "consent":
            complete_intake(self.client, submit=False)
        self.token = self.fresh_token()

    def fresh_token(self) -> str:
        return csrf_token(self.client.get(f"/intake/{self.step}").get_data(as_text=True))

    def new_visitor(self) -> None:
        """The consent step creates the draft: each example starts as a new visitor."""
        if self.step == "consent":
            self.client = self.app.test_client()
            self.token = self.fresh_token()

    def post(self, pairs: Pairs):
        return self.client.post(f"/intake/{self.step}", data=MultiDict(pairs))


STEPS = list(HOSTILE_FORMS)


@pytest.mark.parametrize("step", STEPS)
def test_hostile_input_to_a_step_is_refused_or_stored_exactly(app, step):
    poster = StepPoster(app, step)

    @SETTINGS
    @given(pairs=HOSTILE_FORMS[step], hidden=HIDDEN, csrf=CSRF)
    def check(pairs: Pairs, hidden: dict[str, str], csrf: str) -> None:
        poster.new_visitor()
        before, counts_before = draft_data(app, poster.client), counts(app)
        sent = with_csrf(pairs + list(hidden.items()), csrf, poster.token)
        response = poster.post(sent)
        assert response.status_code < 500
        after = draft_data(app, poster.client)
        if not accepted(response):
            assert after == before
            assert counts(app) == counts_before
            return
        first = first_values(sent)
        assert first.get("csrf_token") == poster.token
        assert not first.get("website")  # the honeypot never stores
        EXPECTED[step](first, after[step], (before or {}).get(step, {}))
        # The other steps' answers are untouched.
        assert {k: v for k, v in after.items() if k != step} == {
            k: v for k, v in (before or {}).items() if k != step
        }

    check()


@pytest.mark.parametrize("step", STEPS)
def test_valid_input_to_a_step_is_stored_exactly(app, step):
    poster = StepPoster(app, step)

    @SETTINGS
    @given(pairs=VALID_FORMS[step])
    def check(pairs: Pairs) -> None:
        poster.new_visitor()
        before = (draft_data(app, poster.client) or {}).get(step, {})
        response = poster.post(with_csrf(pairs, "valid", poster.token))
        assert accepted(response), response.get_data(as_text=True)[:3000]
        EXPECTED[step](first_values(pairs), draft_data(app, poster.client)[step], before)

    check()


@settings(SETTINGS, max_examples=20)
@given(extra=JUNK_FIELDS, csrf=CSRF)
def test_the_final_submit_ignores_tampered_fields_and_stores_once(app, extra, csrf):
    client = app.test_client()
    complete_intake(client, submit=False)
    token = csrf_token(client.get("/intake/review").get_data(as_text=True))
    before = draft_data(app, client)
    drafts_before, submissions_before = counts(app)
    sent = with_csrf(extra, csrf, token)

    response = client.post("/intake/review", data=MultiDict(sent))

    assert response.status_code < 500
    if response.status_code != 302:
        assert draft_data(app, client) == before
        assert counts(app) == (drafts_before, submissions_before)
        return
    assert first_values(sent)["csrf_token"] == token
    assert response.location.endswith("/intake/done")
    assert counts(app) == (drafts_before - 1, submissions_before + 1)
    with app.app_context():
        stored = db.session.scalars(
            db.select(Submission).order_by(Submission.id.desc()).limit(1)
        ).one()
        about = valid_steps()["about"]
        assert (stored.first_name, stored.email) == (about["first_name"], about["email"])
        assert (stored.fit, stored.urgent, stored.ruleset) == ("likely_fit", False, "v1")


@settings(SETTINGS, max_examples=30)
@given(
    token=st.one_of(st.just("REAL"), ANY_TEXT.filter(bool), NASTY.filter(bool)),
    parts=st.fixed_dictionaries({f"date_of_birth-{p}": hostile() for p in DOB_PARTS}),
    right_birthday=st.booleans(),
    csrf=CSRF,
)
def test_hostile_resume_requests_never_fail_and_only_the_right_birthday_resumes(
    app, token, parts, right_birthday, csrf
):
    owner = app.test_client()
    complete_intake(owner, submit=False)
    with owner.session_transaction() as session:
        real_token = session["draft_token"]
    if token == "REAL":
        token = real_token
    if right_birthday:
        about = valid_steps()["about"]
        parts = {f"date_of_birth-{p}": about[f"date_of_birth-{p}"] for p in DOB_PARTS}
    visitor = app.test_client()
    url = "/intake/resume/" + quote(token, safe="")
    page = visitor.get(url)
    assert page.status_code < 500
    if page.status_code != 200:
        return  # e.g. a token with a slash matches no route: 404
    form_token = csrf_token(page.get_data(as_text=True))

    response = visitor.post(url, data=MultiDict(with_csrf(list(parts.items()), csrf, form_token)))

    assert response.status_code < 500
    with visitor.session_transaction() as session:
        resumed = session.get("draft_token")
    if resumed is not None:
        assert resumed == real_token == token and right_birthday and csrf == "valid"
        assert response.status_code == 302
    else:
        assert response.status_code in (400, 422, 429)
