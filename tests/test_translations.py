"""The Spanish catalogue: complete, exact where the wording is clinical, compiled; and no
patient template holds text that is not marked for translation.

The strings are extracted exactly as ``make messages`` extracts them (``babel.cfg`` and the
Makefile's keywords), so a new ``_("…")`` anywhere fails here until it is translated.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, nodes

from screening import TRANSLATIONS
from screening.core import instruments as inst

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SPANISH_PO = TRANSLATIONS / "es" / "LC_MESSAGES" / "messages.po"
SPANISH_MO = SPANISH_PO.with_suffix(".mo")
#: Every template a patient may see: the layout, the intake and the error pages.
PATIENT_TEMPLATES = sorted(
    [PROJECT_ROOT / "templates" / "base.html"]
    + list((PROJECT_ROOT / "templates" / "intake").glob("*.html"))
    + list((PROJECT_ROOT / "templates" / "errors").glob("*.html"))
)

# The official Spanish for the USA, character for character (CLINICAL.md; docs/clinical.md
# gives the sources). Items 6 and 8 have an en dash (U+2013), not the English em dash.
STEM = ("Durante las últimas 2 semanas, ¿qué tan seguido ha tenido molestias debido a los"
        " siguientes problemas?")
FREQUENCY = ("Ningún día", "Varios días", "Más de la mitad de los días", "Casi todos los días")
PHQ9_ITEMS = (
    "Poco interés o placer en hacer cosas",
    "Se ha sentido decaído(a), deprimido(a) o sin esperanzas",
    "Ha tenido dificultad para quedarse o permanecer dormido(a), o ha dormido demasiado",
    "Se ha sentido cansado(a) o con poca energía",
    "Sin apetito o ha comido en exceso",
    "Se ha sentido mal con usted mismo(a) \u2013 o que es un fracaso o que ha quedado mal con"
    " usted mismo(a) o con su familia",
    "Ha tenido dificultad para concentrarse en ciertas actividades, tales como leer el periódico"
    " o ver la televisión",
    "¿Se ha movido o hablado tan lento que otras personas podrían haberlo notado? o lo"
    " contrario \u2013 muy inquieto(a) o agitado(a) que ha estado moviéndose mucho más de lo"
    " normal",
    "Pensamientos de que estaría mejor muerto(a) o de lastimarse de alguna manera",
)
PHQ9_ITEM10 = (
    "Si marcó cualquiera de los problemas, ¿qué tanta dificultad le han dado estos problemas"
    " para hacer su trabajo, encargarse de las tareas del hogar, o llevarse bien con otras"
    " personas?"
)
DIFFICULTY = ("No ha sido difícil", "Un poco difícil", "Muy difícil", "Extremadamente difícil")
GAD7_ITEMS = (
    "Se ha sentido nervioso(a), ansioso(a) o con los nervios de punta",
    "No ha sido capaz de parar o controlar su preocupación",
    "Se ha preocupado demasiado por motivos diferentes",
    "Ha tenido dificultad para relajarse",
    "Se ha sentido tan inquieto(a) que no ha podido quedarse quieto(a)",
    "Se ha molestado o irritado fácilmente",
    "Ha tenido miedo de que algo terrible fuera a pasar",
)


def official_spanish() -> list[tuple[str, str]]:
    """(English as the app holds it, official Spanish) for every instrument text a patient
    reads: stems, items, item 10, and every answer of every item."""
    pairs = [(inst.PHQ9.stem, STEM), (inst.GAD7.stem, STEM)]
    for instrument, spanish in ((inst.PHQ9, (*PHQ9_ITEMS, PHQ9_ITEM10)), (inst.GAD7, GAD7_ITEMS)):
        assert len(instrument.items) == len(spanish)
        for item, text in zip(instrument.items, spanish, strict=True):
            pairs.append((item.text, text))
            answers = DIFFICULTY if item.answers is inst.DIFFICULTY else FREQUENCY
            pairs += list(zip((c.text for c in item.answers.choices), answers, strict=True))
    return pairs


# -- the catalogue ---------------------------------------------------------------------------


def make_keywords() -> dict[str, object]:
    """Babel's default keywords plus the Makefile's ``BABEL_KEYWORDS`` (one definition)."""
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    found = re.search(r"^BABEL_KEYWORDS := (.*)$", makefile, re.M)
    assert found, "the Makefile has no BABEL_KEYWORDS"
    extra = re.findall(r"-k (\S+)", found.group(1))
    return {**DEFAULT_KEYWORDS, **dict.fromkeys(extra)}


@pytest.fixture(scope="module")
def extracted() -> dict[tuple[str | None, str], set[str]]:
    """(context, msgid) -> the files it is in, extracted as ``make messages`` does."""
    with open(PROJECT_ROOT / "babel.cfg") as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[tuple[str | None, str], set[str]] = {}
    for filename, _line, message, _comments, context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=make_keywords()
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault((context, msgid), set()).add(filename)
    return found


@pytest.fixture(scope="module")
def spanish() -> Catalog:
    with open(SPANISH_PO, "rb") as po:
        return read_po(po)


@pytest.fixture(scope="module")
def compiled() -> Translations:
    assert SPANISH_MO.exists(), "no compiled Spanish catalogue: run `make translations`"
    return Translations.load(str(TRANSLATIONS), ["es"])


def test_babel_cfg_covers_the_code_and_the_templates():
    with open(PROJECT_ROOT / "babel.cfg") as config:
        method_map, _options = parse_mapping_cfg(config)
    assert ("screening/**.py", "python") in method_map
    assert ("templates/**.html", "jinja2") in method_map


def test_every_message_has_a_spanish_translation_that_is_not_fuzzy(extracted, spanish):
    problems = []
    for context, msgid in sorted(extracted, key=lambda key: key[1]):
        message = spanish.get(msgid, context=context)
        strings = message.string if message else None
        if isinstance(strings, str):
            strings = (strings,)
        if message is None:
            problems.append(f"missing (run `make messages`): {msgid!r}")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif not strings or not all(s.strip() for s in strings):
            problems.append(f"untranslated: {msgid!r}")
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_nothing_the_code_no_longer_uses(extracted, spanish):
    unused = [m.id for m in spanish if m.id and (m.context, _first(m.id)) not in extracted]
    assert not unused, f"run `make messages`: {unused}"


def test_translations_keep_their_placeholders(spanish):
    problems = [f"{message.id!r}: {errors}" for message, errors in spanish.check()]
    assert not problems, "\n".join(problems)


def test_the_compiled_catalogue_is_the_po_file(spanish, compiled):
    stale = [
        m.id for m in spanish
        if m.id and isinstance(m.id, str) and compiled.ugettext(m.id) != m.string
    ]
    assert not stale, f"messages.mo is out of date: run `make translations`\n{stale}"


def test_the_questionnaires_are_the_official_spanish_for_the_usa(spanish, compiled):
    """Pinned word for word, dash for dash: a translator cannot drift from the official
    sheets (PHQ-9 and GAD-7 Spanish for the USA)."""
    for english, official in official_spanish():
        assert spanish.get(english).string == official, english
        assert compiled.ugettext(english) == official, english
    assert "\u2014" not in "".join(PHQ9_ITEMS)  # the English items' em dash is not the sheet's


def test_instrument_wording_is_not_shared_with_other_text(extracted):
    """The questionnaires' English answers ("Not at all", …) are marked only in their
    definitions: the same English elsewhere would be forced into the instrument's Spanish.
    Text that must differ needs its own words or a ``pgettext`` context."""
    for english, _official in official_spanish():
        assert extracted[(None, english)] == {"screening/core/instruments.py"}, english


def _first(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


# -- patient templates hold no unmarked text -----------------------------------------------

#: Attributes whose words are shown or read out.
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
#: Macro arguments that become visible text.
TEXT_ARGUMENTS = {"label", "legend", "hint", "title"}
TRANSLATING = {"_", "gettext", "ngettext", "pgettext", "npgettext"}
WORDS = re.compile(r"[^\W\d_]{2,}")
#: Text kept in a variable to be shown later ({% set … %}): ids, classes and endpoints are
#: never capitalised, words a patient reads usually are.
CAPITALISED_WORD = re.compile(r"\b[A-Z][a-z]+")
#: A macro that writes attributes for a tag around its call (``described_by``): not text.
ATTRIBUTES_OF_A_MACRO = re.compile(r'(\s*[\w:-]+="[^"]*")+\s*')


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value or "" for name, value in attrs if name in VISIBLE_ATTRIBUTES]
        kind = dict(attrs).get("type")
        if tag == "input" and kind in ("submit", "button"):
            self.found.append(dict(attrs).get("value") or "")

    def handle_data(self, data: str) -> None:
        self.found.append(data)


def untranslated_text(source: str, env: Environment | None = None) -> list[str]:
    """Words a template shows that are not inside ``_()``: text between tags and in visible
    attributes (Jinja's own syntax taken out by its lexer); string constants output directly
    or passed to a macro as its label, legend, hint or title; and capitalised words in any
    other string constant (text set aside to be shown later)."""
    env = env or Environment(extensions=["jinja2.ext.i18n"])
    html, previous = [], None
    for _line, kind, value in env.lex(source):
        if kind == "data":
            html.append(value)
        elif previous == "data" or previous is None:
            html.append(" ")  # an expression or tag stands here: no words of its own
        previous = "data" if kind == "data" else kind
    parser = _Text()
    parser.feed("".join(html))
    found = [
        text.strip() for text in parser.found
        if WORDS.search(text) and not ATTRIBUTES_OF_A_MACRO.fullmatch(text)
    ]
    return found + _shown_constants(env.parse(source))


def _shown_constants(tree: nodes.Node) -> list[str]:
    found: list[str] = []

    def visit(node: nodes.Node, shown: bool) -> None:
        if isinstance(node, nodes.Call):
            name = node.node.name if isinstance(node.node, nodes.Name) else None
            if name in TRANSLATING:
                return
            for keyword in node.kwargs:
                visit(keyword.value, keyword.key in TEXT_ARGUMENTS)
            for child in (node.node, *node.args):
                visit(child, False)
            return
        if isinstance(node, nodes.Const):
            value = node.value
            if isinstance(value, str) and (
                (shown and WORDS.search(value)) or CAPITALISED_WORD.search(value)
            ):
                found.append(value)
            return
        # Output, and the branches of ``a if c else b`` / ``a or b``, are shown as they are.
        passes_on = isinstance(node, nodes.CondExpr | nodes.Or) and shown
        for field, child in node.iter_fields():
            children = child if isinstance(child, list) else [child]
            for each in children:
                if isinstance(each, nodes.Node):
                    direct = isinstance(node, nodes.Output) or (
                        passes_on and field in ("expr1", "expr2", "left", "right")
                    )
                    visit(each, direct)

    visit(tree, False)
    return found


@pytest.mark.parametrize("path", PATIENT_TEMPLATES, ids=lambda p: p.name)
def test_patient_templates_mark_every_text_for_translation(app, path):
    found = untranslated_text(path.read_text(), app.jinja_env)
    assert not found, f"{path.name}: not inside _(): {found}"


@pytest.mark.parametrize(
    "source",
    [
        "<p>Hello there</p>",
        "<p>{{ _('Marked') }} and not marked</p>",
        '<img src="x.png" alt="A photo">',
        '<button aria-label="Close this">{{ x }}</button>',
        '<input type="submit" value="Send it">',
        "{{ 'Plain words' }}",
        "{{ 'Yes' if x else 'No' }}",
        "{{ m.radio_group(field, hint='Choose one') }}",
        "{% if x %}<strong>Careful</strong>{% endif %}",
        '{% set kinds = {"day": ("Day", 2, "bday-day")} %}',
        "{% set messages = {404: ('Page not found', _('Check'))} %}{{ messages[404][0] }}",
        "{% for part, label in [('day', 'Day')] %}{{ label }}{% endfor %}",
    ],
)
def test_the_template_check_finds_unmarked_text(source):
    assert untranslated_text(source)


@pytest.mark.parametrize(
    "source",
    [
        "<p>{{ _('Hello there') }}</p>",
        '<p class="lead" id="intro">{{ _("Hi") }} 988 · 911</p>',
        "{{ m.radio_group(field, hint=_('Choose one'), legend_class='label') }}",
        "<a href=\"{{ url_for('intake.start') }}\">{{ config.CLINIC_NAME }}</a>",
        '{% set parts = {"day": (_("Day"), 2, "bday-day")} %}',
        '<input type="text" name="website" autocomplete="off">',
    ],
)
def test_the_template_check_accepts_marked_text(source):
    assert untranslated_text(source) == []
