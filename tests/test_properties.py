"""Property-based tests: hostile input to every POST endpoint.

For random and adversarial form data (wrong types, out-of-range numbers, huge strings, control
characters, null bytes, unusual unicode, missing, repeated and extra fields, tampered hidden
fields) the app never answers 5xx; a refused request stores nothing; an accepted one stores
exactly what was sent, and only values the question allows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from screening.clinician.review import MAX_NOTE_LENGTH, STATUSES, TRANSITIONS
from screening.core import health_screen, options, treatment_history
from screening.core import instruments as inst
from screening.core.dates import ADULT_AGE, OLDEST_PLAUSIBLE_AGE, age_on
from screening.extensions import db
from screening.intake import drafts, steps
from screening.models import AuditEvent, Draft, Submission, UserSession
from screening.staff import accounts, passwords
from screening.web import language

from .auth_helpers import PASSWORD, login, make_user
from .clinician_helpers import add_submission, use_cheap_password_hashing
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
        "x" * 101, "x" * 2_001, "y" * 10_000,
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
        "lang": hostile("es", "en"),
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

YES_NO = [o.code for o in options.YES_NO]
RESPONSES = [o.code for o in treatment_history.RESPONSE_OPTIONS]
CONTACTS = [o.code for o in options.CONTACT_METHODS]
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


def expected_questionnaire(instrument: inst.Instrument) -> Callable[..., None]:
    def check(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
        for item in instrument.scored_items:
            name = instrument.field(item)
            assert stored[name] == int(sent[name]) and stored[name] in item.answers.values
        for item in instrument.unscored_items:  # PHQ-9 item 10: asked when any is above 0
            name = instrument.field(item)
            answer = stored[name]
            if name not in sent:  # not sent at all: the answer saved before stays
                assert answer == prior.get(name)
            else:
                assert answer == (None if blank(sent[name]) else int(sent[name]))
            assert answer in (None, *item.answers.values)
            if any(stored[instrument.field(i)] for i in instrument.scored_items):
                assert answer is not None

    return check


def expected_treatment(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    subfields = ("medication", "weeks", "as_prescribed", "response")
    # A row number is a short ASCII whole number ("trials-07-…" is row 7; "²", "٣" or twenty
    # digits are no row); an input of a row that is not sent under the row's own name keeps
    # the draft's saved answer, as any field does.
    indices = sorted({int(k.split("-")[1]) for k in sent
                      if k.startswith("trials-") and re.fullmatch(r"[0-9]{1,8}", k.split("-")[1])})
    saved = prior.get("trials", [])

    def value(index: int, name: str) -> Any:
        key = f"trials-{index}-{name}"
        if key in sent:
            return sent[key]
        return saved[index][name] if index < len(saved) else None

    rows = []
    for index in indices:
        row = {name: value(index, name) for name in subfields}
        row["medication"] = (row["medication"] or "").strip()
        row["weeks"] = str(row["weeks"] if row["weeks"] is not None else "").strip()
        if any(row.values()):
            # Weeks may be kept as the number typed ("08" is 8).
            rows.append({**row, "weeks": int(row["weeks"]) if row["weeks"].isdigit() else None})
    kept = [{**row, "weeks": int(row["weeks"])} for row in stored["trials"]]
    assert kept == rows  # every filled row, in order: none silently dropped
    assert len(kept) <= treatment_history.MAX_TRIAL_ROWS
    for row in stored["trials"]:
        assert clean_text(row["medication"], treatment_history.MAX_MEDICATION_NAME)
        assert 0 <= int(row["weeks"]) <= treatment_history.MAX_TRIAL_WEEKS
        assert row["as_prescribed"] in YES_NO and row["response"] in RESPONSES
    for treatment in treatment_history.OTHER_TREATMENTS:
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
    if "treatment_notes" not in sent:  # not sent at all: the text saved before stays
        assert stored["treatment_notes"] == prior.get("treatment_notes")
    else:
        assert stored["treatment_notes"] == sent["treatment_notes"].strip()
        assert clean_text(
            stored["treatment_notes"], treatment_history.MAX_FREE_TEXT, required=False
        )


def expected_health(sent: dict[str, str], stored: dict[str, Any], prior: dict) -> None:
    for question in health_screen.SAFETY_QUESTIONS:
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

FREQUENCY = [str(value) for value in inst.FREQUENCY.values]
TRIAL_INDEX = st.one_of(
    st.integers(0, treatment_history.MAX_TRIAL_ROWS + 3).map(str),
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
        | {"phq9_difficulty": field_values(*FREQUENCY)}
    ),
    "gad7": form({f"gad7_{i}": field_values(*FREQUENCY) for i in range(1, 8)}),
    "treatment": st.builds(
        lambda rows, rest: rows + rest,
        trial_rows(),
        form(
            {f"other_{t.code}": field_values(*YES_NO) for t in treatment_history.OTHER_TREATMENTS}
            | {"ketamine_outcome": field_values(*RESPONSES),
               "treatment_notes": field_values("Weekly therapy since 2022.")}
        ),
    ),
    "health": form({q.code: field_values(*YES_NO) for q in health_screen.SAFETY_QUESTIONS}),
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
def valid_questionnaire(draw: st.DrawFn, instrument: inst.Instrument) -> Pairs:
    pairs = [(instrument.field(i), str(draw(st.sampled_from(i.answers.values))))
             for i in instrument.scored_items]
    needed = any(value != "0" for _, value in pairs)
    for item in instrument.unscored_items:
        if needed or draw(st.booleans()):
            pairs.append((instrument.field(item), str(draw(st.sampled_from(item.answers.values)))))
    return pairs


@st.composite
def valid_treatment(draw: st.DrawFn) -> Pairs:
    pairs: Pairs = []
    count = draw(st.integers(0, treatment_history.MAX_TRIAL_ROWS))
    for index in range(count):
        pairs += [
            (f"trials-{index}-medication", draw(NAME.filter(lambda s: len(s) <= 100))),
            (f"trials-{index}-weeks", str(draw(st.integers(0, treatment_history.MAX_TRIAL_WEEKS)))),
            (f"trials-{index}-as_prescribed", draw(st.sampled_from(YES_NO))),
            (f"trials-{index}-response", draw(st.sampled_from(RESPONSES))),
        ]
    answers = {t.code: draw(st.sampled_from(YES_NO)) for t in treatment_history.OTHER_TREATMENTS}
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
        st.fixed_dictionaries(
            {q.code: st.sampled_from(YES_NO) for q in health_screen.SAFETY_QUESTIONS}
        ),
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
        """Each example starts from the same state, so that examples are independent.

        The consent step creates the draft: a new visitor. Other steps: the step's usual
        answers are saved again first, in English.
        """
        if self.step == "consent":
            self.client = self.app.test_client()
            self.token = self.fresh_token()
            return
        self.client.get("/?lang=en")  # an example may have chosen Spanish
        usual = with_csrf(list(valid_steps()[self.step].items()), "valid", self.token)
        assert accepted(self.post(usual))

    def post(self, pairs: Pairs):
        return self.client.post(f"/intake/{self.step}", data=MultiDict(pairs))


STEPS = list(HOSTILE_FORMS)


def without(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def assert_kept_aside(app: Flask, step: str, sent: dict[str, str], kept: dict[str, str]) -> None:
    """Only the step's own inputs are kept, as sent (bounded in length, no NUL)."""
    with app.test_request_context():
        fields = set(steps.current_steps().by_key[step].form_class(meta={"csrf": False})._fields)
    expected = {
        name: value.replace("\x00", "")[: drafts.MAX_KEPT_VALUE]
        for name, value in sent.items()
        if name.split("-", 1)[0] in fields and name != "csrf_token"
    }
    assert kept == expected


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
        if language.chosen(first.get("lang")):
            # The language link: this step again, what was typed kept aside (once there is a
            # draft) in that language, nothing answered, nothing else changed.
            assert response.location.split("?")[0] == f"/intake/{step}"
            if before is None:
                assert after is None and counts(app) == counts_before
                return
            assert after[drafts.LANGUAGE] == first["lang"]
            assert_kept_aside(app, step, first, after[drafts.PARTIAL]["input"])
            assert without(after, drafts.PARTIAL, drafts.LANGUAGE) == without(
                before, drafts.PARTIAL, drafts.LANGUAGE)
            return
        assert not first.get("website")  # the honeypot never stores
        before = before or {}
        assert after[drafts.LANGUAGE] == "en"  # the language the answers were given in
        if after.get(drafts.PARTIAL, {}).get("step") == step:
            # "Save and finish later" on an unfinished step: what was typed is kept aside,
            # to be shown again, and the step stays unanswered.
            assert first["action"] == "save_later" and response.location.endswith("/saved")
            assert_kept_aside(app, step, first, after[drafts.PARTIAL]["input"])
            assert without(after, drafts.PARTIAL, drafts.LANGUAGE) == without(
                before, drafts.PARTIAL, drafts.LANGUAGE)
            return
        EXPECTED[step](first, after[step], before.get(step, {}))
        # The other steps' answers are untouched.
        assert without(after, step, drafts.PARTIAL, drafts.LANGUAGE) == without(
            before, step, drafts.PARTIAL, drafts.LANGUAGE)

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
        person = stored.patient
        assert (person.first_name, person.email) == (about["first_name"], about["email"])
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
        assert response.status_code in (400, 413, 422, 429)


# --- the clinicians' side --------------------------------------------------------------------

ADMIN = "robin.admin@example.com"
CLINICIAN = "casey.clinician@example.com"
NEXT = st.sampled_from(["", "/clinician/audit", "//evil.example", "https://evil.example/x",
                        "/\\evil.example", "javascript:alert(1)", "/%2F%2Fevil.example",
                        " /clinician/", "\t//evil.example"])


@pytest.fixture
def staff_app(make_app, monkeypatch) -> Flask:
    use_cheap_password_hashing(monkeypatch)
    # Lockouts are tested in test_auth.py; here every attempt must reach the checks.
    app = make_app(LOGIN_MAX_FAILURES=1_000_000)
    make_user(app, ADMIN, role="admin")
    make_user(app, CLINICIAN)
    return app


def staff_client(app: Flask, email: str) -> tuple[FlaskClient, str]:
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client, csrf_token(client.get("/clinician/password").get_data(as_text=True))


def signed_in_now(client: FlaskClient) -> bool:
    return client.get("/clinician/password").status_code == 200


def rows_of(app: Flask, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


@settings(SETTINGS)
@given(
    pairs=form({"email": field_values(CLINICIAN, CLINICIAN.upper(), f" {CLINICIAN} "),
                "password": field_values(PASSWORD, PASSWORD.upper(), f" {PASSWORD}")}),
    next_url=NEXT,
    csrf=CSRF,
)
def test_hostile_sign_in_never_fails_and_signs_in_only_with_the_right_password(
    staff_app, pairs, next_url, csrf
):
    client = staff_app.test_client()
    url = "/clinician/login" + (f"?next={quote(next_url, safe='')}" if next_url else "")
    token = csrf_token(client.get(url).get_data(as_text=True))
    sessions_before = rows_of(staff_app, UserSession)
    sent = with_csrf(pairs, csrf, token)

    response = client.post(url, data=MultiDict(sent))

    assert response.status_code < 500
    first = first_values(sent)
    if signed_in_now(client):
        assert first["csrf_token"] == token
        assert first["email"].strip().lower() == CLINICIAN and first["password"] == PASSWORD
        assert rows_of(staff_app, UserSession) == sessions_before + 1
        target = urlsplit(response.location)
        assert response.status_code == 302 and target.netloc in ("", "localhost")
        assert target.path.startswith("/") and not target.path.startswith("//")
    else:
        assert rows_of(staff_app, UserSession) == sessions_before
        assert response.status_code in (400, 401, 413, 422, 429)


@st.composite
def password_change(draw: st.DrawFn) -> dict[str, list[str]]:
    new = draw(st.one_of(hostile(), st.text(min_size=12, max_size=40).filter(
        lambda s: "\x00" not in s)))
    return {
        "current_password": draw(st.lists(hostile("CURRENT"), max_size=2)),
        "new_password": [new, *draw(st.lists(hostile(), max_size=1))],
        "confirm_password": draw(st.lists(st.one_of(st.just(new), hostile()), max_size=2)),
    }


def password_is(app: Flask, email: str, password: str) -> bool:
    with app.app_context():
        return accounts.check_password(accounts.find_user(email), password)


def test_hostile_password_changes_change_it_only_when_valid(staff_app):
    client, token = staff_client(staff_app, CLINICIAN)
    current = [PASSWORD]

    @SETTINGS
    @given(fields=password_change(), junk=JUNK_FIELDS, csrf=CSRF)
    def check(fields: dict[str, list[str]], junk: Pairs, csrf: str) -> None:
        pairs = [(name, current[0] if value == "CURRENT" else value)
                 for name, values in fields.items() for value in values] + junk
        sent = with_csrf(pairs, csrf, token)
        response = client.post("/clinician/password", data=MultiDict(sent))
        assert response.status_code < 500
        first = first_values(sent)
        new = first.get("new_password", "")
        if new and new != current[0] and password_is(staff_app, CLINICIAN, new):
            assert first["csrf_token"] == token
            assert first["current_password"] == current[0]
            assert first["confirm_password"] == new
            assert passwords.MIN_LENGTH <= len(new) <= passwords.MAX_LENGTH
            assert response.status_code == 302
            current[0] = new
        else:
            assert password_is(staff_app, CLINICIAN, current[0])
            assert response.status_code in (400, 401, 413, 422, 429)
        assert signed_in_now(client)  # the clinician's own session carries on

    check()


REVIEW_ACTIONS = {
    "status": {"expected": field_values(*STATUSES), "status": field_values(*STATUSES)},
    "notes": {"body": field_values("Called, left a message.", "x" * 5001)},
    "acknowledge": {"note": field_values("Phoned the patient; safe tonight.")},
}


def review_state(app: Flask, reference: str) -> dict[str, Any]:
    with app.app_context():
        found = db.session.scalar(db.select(Submission).where(Submission.reference == reference))
        return {
            "status": found.review_status,
            "awaiting_ack": found.awaiting_ack,
            "ack_note": found.acknowledgement_note,
            "moves": [(c.from_status, c.to_status) for c in found.status_changes],
            "notes": [n.body for n in found.notes],
        }


@pytest.mark.parametrize("action", list(REVIEW_ACTIONS))
def test_hostile_review_actions_are_refused_or_stored_exactly(staff_app, action):
    client, token = staff_client(staff_app, CLINICIAN)

    @SETTINGS
    @given(pairs=form(REVIEW_ACTIONS[action]), urgent=st.booleans(), csrf=CSRF)
    def check(pairs: Pairs, urgent: bool, csrf: str) -> None:
        reference = add_submission(staff_app, phq9=(2, 2, 2, 2, 2, 2, 2, 2, int(urgent)))
        before = review_state(staff_app, reference)
        sent = with_csrf(pairs, csrf, token)
        response = client.post(f"/clinician/submissions/{reference}/{action}",
                               data=MultiDict(sent))
        assert response.status_code < 500
        after = review_state(staff_app, reference)
        if after == before:
            assert response.status_code in (400, 413, 422)
            return
        first = first_values(sent)
        assert first["csrf_token"] == token and response.status_code == 302
        if action == "status":
            assert first["expected"] == "new"
            assert after["status"] == first["status"] in TRANSITIONS["new"]
            assert not (urgent and first["status"] in ("not_a_fit", "closed"))
            assert after["moves"] == [("new", first["status"])]
        elif action == "notes":
            assert after["notes"] == [first["body"].strip()]
            assert 1 <= len(after["notes"][0]) <= MAX_NOTE_LENGTH
        else:
            assert urgent and not after["awaiting_ack"]
            assert after["ack_note"] == first["note"].strip()
            assert 1 <= len(after["ack_note"]) <= MAX_NOTE_LENGTH
        assert {k: v for k, v in after.items() if k not in CHANGES[action]} == {
            k: v for k, v in before.items() if k not in CHANGES[action]
        }

    check()


CHANGES = {"status": {"status", "moves"}, "notes": {"notes"},
           "acknowledge": {"awaiting_ack", "ack_note"}}


def test_hostile_erase_requests_erase_only_with_a_reason_and_the_reference(staff_app):
    client, token = staff_client(staff_app, ADMIN)

    @SETTINGS
    @given(pairs=form({"reason": field_values("Patient asked us to delete it."),
                       "confirm": field_values("REF", "ref", " REF ")}),
           csrf=CSRF)
    def check(pairs: Pairs, csrf: str) -> None:
        reference = add_submission(staff_app)
        pairs = [(k, v.replace("REF", reference).replace("ref", reference.lower()))
                 for k, v in pairs]
        sent = with_csrf(pairs, csrf, token)
        response = client.post(f"/clinician/submissions/{reference}/erase",
                               data=MultiDict(sent))
        assert response.status_code < 500
        with staff_app.app_context():
            still_there = db.session.scalar(
                db.select(Submission.id).where(Submission.reference == reference))
            audited = db.session.scalar(db.select(AuditEvent).where(
                AuditEvent.action == "erase_submission", AuditEvent.target == reference))
            reason = audited.details["reason"] if audited else None
        if still_there:
            assert audited is None and response.status_code in (400, 413, 422)
            return
        first = first_values(sent)
        assert first["csrf_token"] == token and response.status_code == 302
        assert first["confirm"].strip().upper() == reference
        assert reason == first["reason"].strip() and 1 <= len(reason) <= 1000

    check()


# --- what clinicians see of hostile patient text ---------------------------------------------

XSS = {
    "first_name": "<script>alert('first')</script>",
    "last_name": "\"><img src=x onerror=alert('last')>",
    "medication": "</td><svg/onload=alert('med')>",
    "notes": "{{7*7}} <iframe src=javascript:alert('notes')></iframe> ${7*7}",
}
MARKUP = re.compile(r"<(script|img|svg|iframe)\b", re.IGNORECASE)
# The layout's own script, at its versioned URL (/static/app.js?v=<hash>).
OWN_SCRIPT = re.compile(r'<script src="/static/app\.js(\?v=[0-9a-f]+)?" defer>')


def test_patient_markup_is_shown_escaped_on_every_clinician_page_and_export(staff_app):
    patient = staff_app.test_client()
    complete_intake(
        patient,
        about={"first_name": XSS["first_name"], "last_name": XSS["last_name"]},
        phq9={"phq9_9": "1"},
        treatment={"trials-0-medication": XSS["medication"], "treatment_notes": XSS["notes"]},
    )
    with staff_app.app_context():
        reference = db.session.scalars(db.select(Submission.reference)).one()
    admin, token = staff_client(staff_app, ADMIN)
    page_url = f"/clinician/submissions/{reference}"
    note = "<script>alert('note')</script>"
    assert admin.post(f"{page_url}/notes", data={"csrf_token": token, "body": note}
                      ).status_code == 302
    assert admin.post(f"{page_url}/acknowledge", data={"csrf_token": token, "body": note,
                                                      "note": note}).status_code == 302
    refused = admin.post(f"{page_url}/notes", data={"csrf_token": token, "body": note * 900})
    assert refused.status_code == 422

    pages = {
        "dashboard": admin.get("/clinician/"),
        "search": admin.get("/clinician/?search=" + quote(XSS["first_name"])),
        "bad filter": admin.get("/clinician/?since=" + quote(XSS["last_name"])),
        "submission": admin.get(page_url),
        "note refused": refused,
        "erase": admin.get(f"{page_url}/erase"),
        "audit": admin.get("/clinician/audit?user=" + quote(XSS["first_name"])),
    }
    for name, response in pages.items():
        text = response.get_data(as_text=True)
        assert response.mimetype == "text/html", name
        assert not MARKUP.search(OWN_SCRIPT.sub("", text)), name
    submission_page = pages["submission"].get_data(as_text=True)
    for value in (*XSS.values(), note):
        assert str(escape(value)) in submission_page, value  # shown, as text
    assert "{{7*7}}" in submission_page and "49" not in submission_page.split("{{7*7}}")[0][-5:]

    for url in ("/clinician/export.csv", f"{page_url}/fhir.json"):
        download = admin.get(url)
        assert download.status_code == 200
        assert download.mimetype in ("text/csv", "application/fhir+json")
        assert download.headers["Content-Disposition"].startswith("attachment")
        assert download.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in download.headers["Cache-Control"]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
PATIENT_TEXT = st.builds(
    lambda start, rest: start + rest,
    st.sampled_from([*FORMULA_START, "", " ", "'", "０", "=="]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
            max_size=30),
)


@settings(SETTINGS)
@given(first=PATIENT_TEXT, last=PATIENT_TEXT, phone=PATIENT_TEXT, email_local=PATIENT_TEXT)
def test_no_exported_text_cell_starts_a_formula(staff_app, first, last, phone, email_local):
    add_submission(staff_app, first_name=first[:100], last_name=last[:100], phone=phone[:40],
                   email=(email_local[:200] + "@example.com"))
    admin, _ = staff_client(staff_app, ADMIN)

    export = admin.get("/clinician/export.csv")

    assert export.status_code == 200
    text = export.get_data().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows
    for row in rows:
        for column, value in zip(header, row, strict=True):
            is_number = re.fullmatch(r"-?\d+", value) and column not in ("phone", "first_name",
                                                                           "last_name", "email")
            assert is_number or not value.startswith(FORMULA_START), (column, value)
    written = dict(zip(header, rows[-1], strict=True))
    for column, sent in (("first_name", first[:100]), ("last_name", last[:100]),
                         ("phone", phone[:40])):
        assert written[column] in (sent, "'" + sent)  # only the quote is added


@pytest.mark.parametrize("index", ["²", "٣", "00", "007", "99999999999999999999", "-1", " 1",
                                   "1.0", ""])
def test_odd_row_numbers_in_the_treatment_form_never_fail(app, index):
    """Row numbers a browser never sends (found by the property test above; kept explicit)."""
    poster = StepPoster(app, "treatment")
    before = draft_data(app, poster.client)
    row = {"medication": "Odd Row", "weeks": "8", "as_prescribed": "yes",
           "response": "did_not_help"}
    pairs = [*valid_steps()["treatment"].items(),
             *((f"trials-{index}-{name}", value) for name, value in row.items())]
    response = poster.post(with_csrf(pairs, "valid", poster.token))
    assert response.status_code in (302, 422)
    after = draft_data(app, poster.client)
    if response.status_code == 422:
        assert after == before
    else:
        expected_treatment(first_values(pairs), after["treatment"], before["treatment"])
