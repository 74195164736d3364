"""The intake in Spanish, with the real catalogue: how the language is chosen and kept, that
every patient page, message and error is Spanish, that the questionnaires read as the official
sheets, and that the answers, scores, flags and CSV are the same as in English. Staff pages
stay English.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re

import pytest
from babel.messages.pofile import read_po
from flask import render_template_string

from screening.web import i18n

from .clinician_helpers import signed_in, use_cheap_password_hashing
from .conftest import csrf_token, post_form
from .intake_helpers import (
    all_submissions,
    complete_intake,
    saved_draft_data,
    session_token,
    valid_steps,
    walk_to,
)
from .test_translations import SPANISH_PO, official_spanish

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es-US,es;q=0.9,en;q=0.5"}
SPANISH_HEADERS = {"Accept-Language": "es"}
STEPS = ("consent", "about", "phq9", "gad7", "treatment", "health")


def text_of(response) -> str:
    """The page as a reader hears it: tags removed, entities decoded, spaces collapsed."""
    body = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def lang_of(response) -> str:
    found = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert found, "no <html lang>"
    return found.group(1)


@pytest.fixture
def spanish_client(app):
    client = app.test_client()
    client.environ_base.update(SPANISH)
    return client


@pytest.fixture(scope="module")
def english_phrases() -> list[str]:
    """Every English text of the catalogue whose Spanish differs, cut at its placeholders and
    tags into phrases a reader would notice (a word of 3 letters or more)."""
    with open(SPANISH_PO, "rb") as po:
        catalogue = read_po(po)
    phrases = set()
    for message in catalogue:
        if not message.id or not isinstance(message.id, str) or message.string == message.id:
            continue
        for piece in re.split(r"%\(\w+\)s|<[^>]+>", message.id):
            piece = piece.strip(" .,:;?!—–()“”")
            if re.search(r"[A-Za-z]{3,}", piece):
                phrases.add(piece)
    return sorted(phrases, key=len, reverse=True)


def english_left(page: str, phrases: list[str]) -> list[str]:
    return [p for p in phrases if re.search(rf"(?<![\w-]){re.escape(p)}(?![\w-])", page)]


# -- choosing the language ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [("es", "es"), ("es-MX,es;q=0.9", "es"), ("es-US", "es"), ("en-US,en;q=0.9,es;q=0.8", "en"),
     ("fr-FR", "en"), (None, "en")],
)
def test_the_browsers_language_chooses_by_default(client, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    response = client.get("/", headers=headers)
    assert lang_of(response) == expected
    heading = "Cuestionario antes de una consulta" if expected == "es" else "Questionnaire before"
    assert heading in text_of(response)


def test_the_start_page_and_header_offer_the_other_language(client):
    page = client.get("/").get_data(as_text=True)
    assert '<p class="language-offer"><a href="?lang=es" lang="es" hreflang="es">' \
           "Responder en español</a></p>" in page
    assert re.search(r'<a class="language-link" href="\?lang=es" lang="es" hreflang="es"'
                     r' data-language="es">Español</a>', page)
    spanish = client.get("/?lang=es").get_data(as_text=True)
    assert re.search(r'<a class="language-link" href="\?lang=en" lang="en"[^>]*>English</a>',
                     spanish)


def test_a_chosen_language_is_remembered_and_beats_the_browsers(client):
    assert lang_of(client.get("/?lang=es", headers={"Accept-Language": "en"})) == "es"
    consent = client.get("/intake/consent", headers={"Accept-Language": "en"})
    assert lang_of(consent) == "es" and "Su consentimiento" in text_of(consent)
    assert lang_of(client.get("/intake/consent?lang=en", headers=SPANISH_HEADERS)) == "en"
    assert lang_of(client.get("/crisis", headers=SPANISH_HEADERS)) == "en"



def test_an_unknown_language_is_ignored(client):
    response = client.get("/?lang=xx", headers=SPANISH_HEADERS)
    assert response.status_code == 200 and lang_of(response) == "es"


def test_the_language_link_keeps_the_page_and_its_query(client):
    walk_to(client, "phq9")
    page = client.get("/intake/about?return_to=review").get_data(as_text=True)
    assert 'href="?return_to=review&amp;lang=es"' in page


def test_the_language_link_never_points_at_another_site(client):
    """A crafted path ("//example.org/x") is not copied into the link: it is a query only."""
    response = client.get("/", environ_overrides={"PATH_INFO": "//example.org/x"})
    assert response.status_code == 404
    assert "example.org" not in response.get_data(as_text=True)


def test_changing_language_on_a_step_keeps_what_was_typed(app, client):
    """app.js sends the step's form with the language chosen: nothing typed is lost, nothing
    is checked or counted as answered, and the step comes back in Spanish."""
    walk_to(client, "phq9")
    typed = {"phq9_1": "2", "phq9_2": "3", "phq9_9": "1"}
    response = post_form(client, "/intake/phq9", {**typed, "lang": "es"})
    assert response.status_code == 302 and response.location == "/intake/phq9"
    page = client.get("/intake/phq9")
    assert lang_of(page) == "es"
    body = page.get_data(as_text=True)
    for name, value in typed.items():
        assert re.search(rf'name="{name}" value="{value}" checked', body), name
    assert "error-summary" not in body
    data = saved_draft_data(app, client)
    assert "phq9" not in data and data["_language"] == "es"


def test_changing_language_before_the_draft_exists_just_changes_it(client):
    response = post_form(client, "/intake/consent", {"lang": "es"})
    assert response.location == "/intake/consent"
    assert session_token(client) is None
    assert lang_of(client.get("/intake/consent")) == "es"


def test_changing_language_from_the_review_keeps_the_way_back(client):
    complete_intake(client, submit=False)
    response = post_form(client, "/intake/gad7?return_to=review",
                         {**valid_steps()["gad7"], "return_to": "review", "lang": "es"})
    assert response.location == "/intake/gad7?return_to=review"


def test_a_resumed_draft_comes_back_in_its_language(app, spanish_client):
    walk_to(spanish_client, "phq9")
    response = post_form(spanish_client, "/intake/phq9",
                         {"phq9_1": "1", "action": "save_later"})
    assert response.location == "/intake/saved"
    saved = spanish_client.get("/intake/saved")
    link = re.search(r'href="(http://localhost/intake/resume/[^"]+)"',
                     saved.get_data(as_text=True)).group(1)
    assert "Sus respuestas guardadas se conservan hasta el" in text_of(saved)

    elsewhere = app.test_client()  # another device, whose browser asks for English
    resumed = post_form(elsewhere, link.removeprefix("http://localhost"), {
        "date_of_birth-month": "6", "date_of_birth-day": "14", "date_of_birth-year": "1984"})
    assert resumed.location == "/intake/phq9"
    page = elsewhere.get("/intake/phq9")
    assert lang_of(page) == "es" and "Poco interés o placer en hacer cosas" in text_of(page)


def test_a_language_chosen_on_the_resume_page_is_kept(app, spanish_client):
    walk_to(spanish_client, "phq9")
    post_form(spanish_client, "/intake/phq9", {"action": "save_later"})
    link = re.search(r'href="http://localhost(/intake/resume/[^"]+)"',
                     spanish_client.get("/intake/saved").get_data(as_text=True)).group(1)
    elsewhere = app.test_client()
    elsewhere.get(link + "?lang=en")
    post_form(elsewhere, link, {"date_of_birth-month": "6", "date_of_birth-day": "14",
                                "date_of_birth-year": "1984"})
    assert lang_of(elsewhere.get("/intake/phq9")) == "en"


# -- everything a patient reads is Spanish -----------------------------------------------------


def test_every_patient_page_is_in_spanish(app, spanish_client, english_phrases):
    """Each page of the intake, with and without errors, holds no English text of ours."""
    client = spanish_client
    pages = {"start": client.get("/"), "crisis": client.get("/crisis"),
             "404": client.get("/no-such-page")}
    for key, data in valid_steps(phq9={"phq9_9": "2"}).items():
        pages[key] = client.get(f"/intake/{key}")
        pages[f"{key} with errors"] = post_form(client, f"/intake/{key}", {})
        assert pages[f"{key} with errors"].status_code == 422, key
        assert post_form(client, f"/intake/{key}", data).status_code == 302, key
    pages["review"] = client.get("/intake/review")
    pages["done"] = client.get(post_form(client, "/intake/review", {}).location)
    problems = {}
    for name, response in pages.items():
        assert lang_of(response) == "es", name
        left = english_left(text_of(response), english_phrases)
        if left:
            problems[name] = left
    assert not problems, problems
    assert "No tiene que pasar por esto a solas" in text_of(pages["done"])
    assert "Ha tenido miedo de que algo terrible fuera a pasar" in text_of(pages["gad7"])


def test_the_english_phrase_check_finds_english(english_phrases):
    assert english_left("Paso 3 de 7. Save and continue", english_phrases) == ["Save and continue"]
    assert english_left("Guardar y continuar", english_phrases) == []


def test_the_questionnaires_read_exactly_as_the_official_spanish_sheets(spanish_client):
    walk_to(spanish_client, "phq9")
    phq9 = spanish_client.get("/intake/phq9").get_data(as_text=True)
    walk_to(spanish_client, "gad7")
    gad7 = spanish_client.get("/intake/gad7").get_data(as_text=True)
    for english, official in official_spanish():
        assert official in phq9 + gad7, official
        assert english not in phq9 + gad7, english


@pytest.mark.parametrize(
    ("step", "fields", "message"),
    [
        ("consent", {"consent": None}, "Marque la casilla para dar su permiso"),
        ("about", {"email": "no"}, "Escriba un correo electrónico como nombre@example.com."),
        ("about", {"date_of_birth-day": "31", "date_of_birth-month": "2"},
         "Escriba una fecha que exista, por ejemplo 3 27 1985."),
        ("about", {"date_of_birth-year": "84"},
         "Escriba el año con sus 4 cifras, por ejemplo 1985."),
        ("phq9", {"phq9_4": None}, "Elija una respuesta para la pregunta 4."),
        ("phq9", {"phq9_difficulty": None}, "Elija qué tanta dificultad le han dado estos"),
        ("treatment", {"trials-0-weeks": "lots"},
         "Antidepresivo 1: Escriba las semanas como un número entero del 0 al 520"),
        ("health", {"pregnancy": None}, "Responda sí o no."),
        ("health", {"pregnancy": None, "mania": None},
         "¿Está embarazada, está amamantando o está planeando un embarazo? Responda sí o no."),
    ],
)
def test_errors_are_in_spanish(spanish_client, step, fields, message):
    walk_to(spanish_client, step)
    data = {**valid_steps()[step], **fields}
    response = post_form(spanish_client, f"/intake/{step}",
                         {k: v for k, v in data.items() if v is not None})
    assert response.status_code == 422
    assert message in text_of(response)


def test_crisis_help_in_spanish_names_the_spanish_line(spanish_client):
    for page in (text_of(spanish_client.get("/crisis")), text_of(spanish_client.get("/"))):
        assert "llame al 988 y marque 2, o envíe ayuda por mensaje de texto al 988" in page.lower()
        assert "911" in page


def test_the_review_shows_the_date_of_birth_unambiguously_in_spanish(spanish_client):
    complete_intake(spanish_client, submit=False, about={
        "date_of_birth-month": "3", "date_of_birth-day": "5", "date_of_birth-year": "1990"})
    page = text_of(spanish_client.get("/intake/review"))
    assert "5 de marzo de 1990" in page
    assert "Sertraline" in page  # what the patient typed, exactly as typed


# -- what is stored is the same in both languages ---------------------------------------------


def test_the_same_answers_store_the_same_scores_flags_and_csv_in_both_languages(
    app, client, spanish_client, monkeypatch
):
    answers = {"phq9": {"phq9_9": "1", "phq9_3": "3"},
               "health": {"heart_disease": "yes"},
               "treatment": {"other_ketamine": "yes", "ketamine_outcome": "helped_a_little",
                             "treatment_notes": "Terapia semanal desde 2022."}}
    complete_intake(client, **answers)
    complete_intake(spanish_client, **answers)
    english, spanish = sorted(all_submissions(app), key=lambda s: s.language)
    assert (english.language, spanish.language) == ("en", "es")
    assert [r.language for r in spanish.responses] == ["es", "es"]

    def stored(s):
        return (
            sorted((r.instrument, r.answers, r.total, r.band, r.urgent) for r in s.responses),
            s.fit, s.urgent, s.needs_medical_review, s.reasons, s.contraindications,
            s.cautions, s.adequate_failed_trials, s.trials, s.other_treatments, s.safety,
            s.patient.date_of_birth, s.patient.contact_method,
        )

    assert stored(english) == stored(spanish)
    assert spanish.urgent and spanish.needs_medical_review

    use_cheap_password_hashing(monkeypatch)
    clinician = signed_in(app)
    exported = clinician.get("/clinician/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(exported.removeprefix("\ufeff"))))
    assert "language" not in rows[0]  # the CSV's columns do not move
    for row in rows:
        del row["reference"], row["submitted_at"]
    assert rows[0] == rows[1]


def test_staff_see_the_language_and_fhir_carries_it(app, spanish_client, monkeypatch):
    complete_intake(spanish_client)
    [submission] = all_submissions(app)
    use_cheap_password_hashing(monkeypatch)
    clinician = signed_in(app)
    page = clinician.get(f"/clinician/submissions/{submission.reference}", headers=SPANISH_HEADERS)
    assert lang_of(page) == "en"
    assert "Language Spanish" in text_of(page)
    assert "Little interest or pleasure in doing things" in text_of(page)  # staff read English
    assert "Spanish" in text_of(clinician.get("/clinician/"))
    bundle = json.loads(clinician.get(
        f"/clinician/submissions/{submission.reference}/fhir.json").get_data(as_text=True))
    responses = [e["resource"] for e in bundle["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert [r["language"] for r in responses] == ["es", "es"]


# -- staff pages stay English -----------------------------------------------------------------


def test_staff_pages_stay_english_whatever_the_browser_or_the_session_says(app, monkeypatch):
    use_cheap_password_hashing(monkeypatch)
    clinician = signed_in(app)
    clinician.get("/?lang=es")  # the same browser chose Spanish on a patient page
    for url in ("/clinician/", "/clinician/no-such-page", "/clinician/?lang=es"):
        response = clinician.get(url, headers=SPANISH_HEADERS)
        assert lang_of(response) == "en", url
    assert lang_of(app.test_client().get("/clinician/login", headers=SPANISH_HEADERS)) == "en"
    not_found = clinician.get("/clinician/nope", headers=SPANISH_HEADERS)
    assert "Page not found" in text_of(not_found)
    assert "language-link" not in not_found.get_data(as_text=True)  # nothing to switch to
    assert lang_of(clinician.get("/crisis")) == "es"  # the patient's choice still stands


def test_a_patients_error_page_is_in_their_language(spanish_client):
    response = spanish_client.get("/no-such-page")
    assert response.status_code == 404
    assert "No encontramos esta página" in text_of(response)


# -- the translation look-ups -----------------------------------------------------------------


def test_each_request_uses_its_own_language_and_nothing_outlives_it(app):
    """Translations are looked up once per request and forgotten at its end."""
    client = app.test_client()
    assert "Save and continue" in client.get("/intake/consent").get_data(as_text=True)
    assert "Guardar y continuar" in client.get(
        "/intake/consent", headers=SPANISH_HEADERS).get_data(as_text=True)
    assert i18n.gettext("Save and continue") == "Save and continue"  # no request any more
    with app.test_request_context("/", headers=SPANISH_HEADERS):
        app.preprocess_request()
        assert i18n.gettext("Save and continue") == "Guardar y continuar"
        assert str(i18n.lazy_gettext("Save and continue")) == "Guardar y continuar"


def test_text_for_a_patient_is_written_in_their_language_wherever_it_is_made(app):
    """The way to write an email to a patient: in their language, from a request in another
    language or from a command with only an app context."""
    with app.test_request_context("/"):
        app.preprocess_request()
        with i18n.in_language("es"):
            assert i18n.gettext("Save and continue") == "Guardar y continuar"
            assert render_template_string("{{ _('Your answers are saved') }}") == (
                "Sus respuestas están guardadas")
        assert i18n.gettext("Save and continue") == "Save and continue"
    with app.app_context():
        with i18n.in_language("es"):
            assert i18n.gettext("Start again") == "Empezar de nuevo"
        assert i18n.gettext("Start again") == "Start again"


def test_every_step_has_a_spanish_title(spanish_client):
    titles = []
    for key in STEPS:
        walk_to(spanish_client, key)
        page = spanish_client.get(f"/intake/{key}").get_data(as_text=True)
        titles.append(re.search(r"<h1>(.*?)</h1>", page).group(1))
    assert titles == ["Su consentimiento", "Sobre usted", "Cómo se ha sentido",
                      "Preocupación y ansiedad", "Tratamientos que ha probado",
                      "Su salud y seguridad"]


def test_the_placeholder_clinic_name_is_translated_a_real_one_is_not(make_app):
    page = make_app().test_client().get("/", headers=SPANISH_HEADERS)
    assert "Nuestra clínica · Cuestionario inicial" in text_of(page)
    named = make_app(CLINIC_NAME="Clínica Sol de Mayo").test_client()
    assert "Clínica Sol de Mayo · Cuestionario inicial" in text_of(
        named.get("/", headers=SPANISH_HEADERS))


def test_form_field_names_do_not_depend_on_the_language(spanish_client):
    """Form field names and values do not depend on the language: only the labels change."""
    walk_to(spanish_client, "about")
    english = set(re.findall(r'name="([^"]+)"', spanish_client.get(
        "/intake/about?lang=en").get_data(as_text=True)))
    spanish = set(re.findall(r'name="([^"]+)"', spanish_client.get(
        "/intake/about?lang=es").get_data(as_text=True)))
    assert english == spanish
    assert csrf_token(spanish_client.get("/intake/about").get_data(as_text=True))
