"""Every patient-facing string is extractable by Babel, so a Spanish version is one file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo

from screening.core import health_screen, options, treatment_history
from screening.core import instruments as inst

from .conftest import post_form
from .intake_helpers import walk_to

PROJECT_ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "_l": None, "lazy_gettext": None}


@pytest.fixture(scope="module")
def extracted() -> dict[str, set[str]]:
    """msgid -> the files it was found in, extracted exactly as babel.cfg says."""
    with open(PROJECT_ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, set()).add(filename)
    return found


def instrument_strings() -> list[str]:
    strings: list[str] = []
    for instrument in inst.INSTRUMENTS.values():
        strings += [instrument.title, instrument.step_title, instrument.stem]
        strings += [item.text for item in instrument.items]
        strings += [item.hint for item in instrument.items if item.hint]
        strings += [choice.text for item in instrument.items for choice in item.answers.choices]
    for choices in (treatment_history.RESPONSE_OPTIONS, options.YES_NO, options.CONTACT_METHODS):
        strings += [option.text for option in choices]
    strings += [treatment.question for treatment in treatment_history.OTHER_TREATMENTS]
    strings += [question.question for question in health_screen.SAFETY_QUESTIONS]
    return strings


def test_babel_cfg_covers_the_code_and_the_templates():
    with open(PROJECT_ROOT / "babel.cfg") as config:
        method_map, _options = parse_mapping_cfg(config)
    assert ("screening/**.py", "python") in method_map
    assert ("templates/**.html", "jinja2") in method_map


@pytest.mark.parametrize("text", instrument_strings())
def test_every_question_and_answer_of_the_instruments_is_extracted(extracted, text):
    assert text in extracted
    assert any(name.startswith("screening/core/") for name in extracted[text])


@pytest.mark.parametrize(
    "text",
    [
        "Questionnaire before a ketamine-assisted therapy consultation",
        "This questionnaire is not a diagnosis, and it does not decide whether you can have"
        " treatment. Only a conversation with a clinician can do that.",
        "You don't have to go through this alone",
        "Call or text <strong>988</strong> to reach the Suicide & Crisis Lifeline. It is free"
        " and confidential.",
        "Need help now?",
        "Save and continue",
        "Save and finish later",
        "Please check these answers",
        "Check your answers",
        "Send my answers",
        "Thank you. Your answers have been sent.",
        "Continue your questionnaire",
        "We could not open your saved answers",
        "Step %(n)s of %(total)s",
    ],
)
def test_key_template_strings_are_extracted(extracted, text):
    assert text in extracted
    assert any(name.startswith("templates/") for name in extracted[text])


@pytest.mark.parametrize(
    "text",
    [
        "First name",
        "Enter your first name.",
        "Enter a real date, for example 27 3 1985.",
        "Choose an answer for question %(n)s.",
        "Choose how difficult these problems have made things for you.",
        "Enter the weeks as a whole number from 0 to 520, for example 8.",
        "Answer yes or no.",
        "How you have been feeling",
    ],
)
def test_form_labels_and_error_messages_are_extracted(extracted, text):
    assert text in extracted


def test_no_patient_template_has_untranslated_sentences():
    """Text between tags in intake templates is inside _() (numbers and symbols aside)."""
    for path in sorted((PROJECT_ROOT / "templates" / "intake").glob("*.html")):
        source = re.sub(r"{#.*?#}|{%.*?%}|{{.*?}}", "", path.read_text(), flags=re.S)
        for text in re.findall(r">([^<>]+)<", source):
            if '="' in text:
                continue  # an attribute written by a macro, not text
            assert not re.search(r"[A-Za-z]{2,}", text), f"{path.name}: {text.strip()!r}"


SPANISH = {
    "Little interest or pleasure in doing things": "Poco interés o placer en hacer cosas",
    "Not at all": "Para nada",
    "Save and continue": "Guardar y continuar",
    "Choose an answer for question %(n)s.": "Elija una respuesta para la pregunta %(n)s.",
    "Over the last 2 weeks, how often have you been bothered by any of the following problems?":
        "Durante las últimas 2 semanas, ¿con qué frecuencia le han molestado los siguientes"
        " problemas?",
}


def test_a_translation_file_is_all_a_spanish_version_needs(make_app, tmp_path):
    catalog = Catalog(locale="es")
    for english, spanish in SPANISH.items():
        catalog.add(english, spanish)
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "es" / "LC_MESSAGES" / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    app.extensions["babel"].locale_selector = lambda: "es"
    client = app.test_client()
    walk_to(client, "phq9")
    page = client.get("/intake/phq9").get_data(as_text=True)
    for english in ("Little interest or pleasure in doing things", "Not at all",
                    "Save and continue", "Over the last 2 weeks, how often have you been"
                    " bothered by any of the following problems?"):
        assert SPANISH[english] in page
    assert "Little interest or pleasure in doing things" not in page
    errors = post_form(client, "/intake/phq9", {}).get_data(as_text=True)
    assert "Elija una respuesta para la pregunta 1." in errors


def test_each_request_uses_its_own_locale_and_nothing_outlives_it(make_app, tmp_path):
    """Translations are looked up once per request and forgotten at its end: a change of
    locale shows on the next request, and code outside a request is not translated."""
    from screening.web import i18n

    catalog = Catalog(locale="es")
    catalog.add("Save and continue", SPANISH["Save and continue"])
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "es" / "LC_MESSAGES" / "messages.mo", "wb") as mo:
        write_mo(mo, catalog)
    app = make_app(BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    client = app.test_client()
    assert "Save and continue" in client.get("/intake/consent").get_data(as_text=True)
    app.extensions["babel"].locale_selector = lambda: "es"
    assert "Guardar y continuar" in client.get("/intake/consent").get_data(as_text=True)
    assert i18n.gettext("Save and continue") == "Save and continue"  # no request any more
    with app.test_request_context("/"):
        app.preprocess_request()
        assert i18n.gettext("Save and continue") == "Guardar y continuar"
        assert str(i18n.lazy_gettext("Save and continue")) == "Guardar y continuar"
