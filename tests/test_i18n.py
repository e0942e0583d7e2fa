"""The translation catalogs: German is complete and current, English knows every message,
templates hold no text outside `_()`, and a request gets the page in the reader's language.

Fixing a failure here is usually `make catalogs`, then translating the new German entries in
translations/de/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = PROJECT_ROOT / "translations"
TEMPLATES = PROJECT_ROOT / "templates"
GERMAN_PO = TRANSLATIONS / "de" / "LC_MESSAGES" / "messages.po"
ENGLISH_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"
FIX = "run `make catalogs` and translate the German entries"


def compile_catalogs() -> None:
    """Build each .mo next to its .po (what `make translations` does), so `pytest` alone works."""
    for po_path in sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po")):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        partial = mo_path.with_name(f"messages.mo.{os.getpid()}")
        with partial.open("wb") as mo_file:
            write_mo(mo_file, catalog)
        os.replace(partial, mo_path)


# At import, that is during collection: before any test (of any module) renders a page and
# Flask-Babel caches the translations it found.
compile_catalogs()


def load(path: Path) -> Catalog:
    with path.open("rb") as po_file:
        return read_po(po_file)


def key(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple) else message.id


def translations_of(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Message]:
    """The messages in the source right now, extracted exactly as `make catalogs` does."""
    pot = tmp_path_factory.mktemp("catalogs") / "messages.pot"
    CommandLineInterface().run(
        [
            "pybabel",
            "-q",
            "extract",
            "-F",
            str(PROJECT_ROOT / "babel.cfg"),
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "--no-location",
            "-o",
            str(pot),
            str(PROJECT_ROOT),
        ]
    )
    messages = {key(message): message for message in load(pot) if message.id}
    assert len(messages) > 50, "extraction found suspiciously few messages"
    return messages


@pytest.fixture(scope="module")
def german() -> Catalog:
    return load(GERMAN_PO)


@pytest.fixture(scope="module")
def english() -> Catalog:
    return load(ENGLISH_PO)


# --- (a) the German catalog is complete --------------------------------------------------


def is_translated(entry: Message | None, catalog: Catalog) -> bool:
    if entry is None or entry.fuzzy:
        return False
    forms = translations_of(entry)
    if entry.pluralizable and len(forms) != catalog.num_plurals:
        return False
    return all(form.strip() for form in forms)


def test_every_message_in_the_source_has_a_german_translation(extracted, german):
    untranslated = [
        msgid
        for msgid, source in extracted.items()
        if not is_translated(german.get(source.id), german)
    ]
    assert not untranslated, f"untranslated in German ({FIX}): {untranslated}"


# --- (b) no obsolete, fuzzy or stale German entries --------------------------------------


def test_german_catalog_has_no_obsolete_entries(german):
    assert not german.obsolete, f"obsolete entries in German: {list(german.obsolete)}"


def test_german_catalog_has_no_fuzzy_entries(german):
    fuzzy = [key(message) for message in german if message.id and message.fuzzy]
    assert not german.fuzzy, "the German header is marked fuzzy"
    assert not fuzzy, f"fuzzy German entries (check and remove the flag): {fuzzy}"


def test_german_catalog_holds_only_messages_the_source_still_uses(extracted, german):
    stale = [key(message) for message in german if message.id and key(message) not in extracted]
    assert not stale, f"German entries no longer in the source ({FIX}): {stale}"


# --- (c) placeholders survive translation ------------------------------------------------

PLACEHOLDER = re.compile(r"%(?:\((\w+)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")


def placeholders(text: str) -> set[tuple[str, str]]:
    return {(name, kind) for name, kind in PLACEHOLDER.findall(text) if kind != "%"}


def test_german_translations_keep_the_placeholders_of_the_source(german):
    broken = []
    for message in german:
        if not message.id or not message.python_format:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(text) for text in ids))
        translations = list(translations_of(message))
        for index, translation in enumerate(translations):
            found = placeholders(translation)
            # A singular form may leave the number out ("the proposal" for one), as English does.
            singular_of_plural = isinstance(message.id, tuple) and index == 0
            if found != expected and not (singular_of_plural and found <= expected):
                broken.append((key(message), translation))
    assert not broken, f"placeholders differ from the English source: {broken}"


def test_german_uses_german_quotation_marks_where_english_quotes(german):
    wrong = [
        key(message)
        for message in german
        if message.id
        and "“" in key(message)
        and not all("„" in t and '"' not in t for t in translations_of(message))
    ]
    assert not wrong, f"use „…“ in German where the English has “…”: {wrong}"


def test_compiled_german_catalog_chooses_the_plural_form_by_count():
    compile_catalogs()
    german = Translations.load(str(TRANSLATIONS), ["de"])
    assert german.ngettext("%(num)d support", "%(num)d supports", 1) == "%(num)d Unterstützung"
    assert german.ngettext("%(num)d support", "%(num)d supports", 3) == "%(num)d Unterstützungen"


# --- (d) the English catalog -------------------------------------------------------------


def test_english_catalog_contains_every_message_of_the_source(extracted, english):
    missing = [msgid for msgid, source in extracted.items() if english.get(source.id) is None]
    assert not missing, f"missing from the English catalog ({FIX}): {missing}"


def test_english_catalog_has_a_valid_header(english):
    assert str(english.locale) == "en"
    assert english.num_plurals == 2
    assert english.charset.lower() == "utf-8"
    assert not english.fuzzy


def test_german_catalog_has_a_valid_header(german):
    assert str(german.locale) == "de"
    assert german.plural_expr == "(n != 1)"
    assert german.charset.lower() == "utf-8"


# --- (e) templates hold no untranslated text ---------------------------------------------

# Words that are the same in every language. Text without letters (◆ … · ✓ 42) always passes.
ALLOWED_TEXT = {"Deutsch", "English"}
# Attributes that browsers show or read aloud.
READABLE_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "aria-description", "label"}

JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)
JINJA_TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b.*?%\}.*?\{%-?\s*endtrans\s*-?%\}", re.DOTALL)
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
LETTER = re.compile(r"[^\W\d_]")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip_depth += 1
        for name, value in attrs:
            if name in READABLE_ATTRIBUTES and value:
                self._check(value, f'{name}="{value.strip()}"')

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip_depth:
            self._skip_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip_depth:
            self._check(data, data.strip())

    def _check(self, text: str, shown: str) -> None:
        words = " ".join(text.split())
        if LETTER.search(words) and words not in ALLOWED_TEXT:
            self.found.append(shown)


def untranslated_text(source: str) -> list[str]:
    """Text a reader would see that does not come from a Jinja expression or `{% trans %}`."""
    source = JINJA_COMMENT.sub(" ", source)
    source = JINJA_TRANS_BLOCK.sub(" ", source)
    source = JINJA_TAG.sub(" ", source)
    collector = _TextCollector()
    collector.feed(source)
    collector.close()
    return collector.found


def test_the_template_check_finds_plain_text_and_accepts_translated_text():
    assert untranslated_text('<p>{{ _("Hello") }} · {{ count }}</p>') == []
    assert untranslated_text("<p>{% trans %}Hello{% endtrans %}</p>") == []
    assert untranslated_text("<p>Hello {{ name }}</p>") == ["Hello"]
    assert untranslated_text('<nav aria-label="Pages"></nav>') == ['aria-label="Pages"']
    assert untranslated_text('<a title="{{ _(\'Home\') }}" href="/x">◆</a>') == []


TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))


@pytest.mark.parametrize(
    "template", TEMPLATE_FILES, ids=[str(p.relative_to(TEMPLATES)) for p in TEMPLATE_FILES]
)
def test_template_has_no_untranslated_text(template: Path):
    found = untranslated_text(template.read_text(encoding="utf-8"))
    assert not found, f"wrap in {{{{ _('…') }}}}: {found}"


# --- (f) a request is answered in the reader's language ----------------------------------


def test_page_is_german_without_a_language_preference(client, factory):
    factory.consultation(title="Marktplatz")
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Gestalten Sie Ihre Stadt mit" in html


def test_page_is_english_for_a_browser_that_prefers_english(client, factory):
    factory.consultation(title="Marktplatz")
    html = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Have your say in your town" in html


def test_consultation_page_names_the_phase_in_the_readers_language(client, factory):
    consultation = factory.consultation(title="Marktplatz")
    url = f"/consultations/{consultation.slug}"
    assert "Vorschläge sammeln" in client.get(url).get_data(as_text=True)
    english = client.get(url, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Collecting proposals" in english.get_data(as_text=True)


def test_language_switcher_keeps_the_chosen_language_for_the_session(client):
    client.post("/language", data={"language": "en", "next": "/"})
    html = client.get("/", headers={"Accept-Language": "de"}).get_data(as_text=True)
    assert '<html lang="en">' in html
