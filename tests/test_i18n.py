"""The translation catalogs: German is complete and current, English knows every message,
templates and forms hold no text outside `_()` / `_l()`, a request gets the page in the
reader's language (their setting, then the browser's, then German), and dates, numbers and
amounts are written the reader's way.

Fixing a failure here is usually `make catalogs`, then translating the new German entries in
translations/de/LC_MESSAGES/messages.po.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from flask import request
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from wtforms.csrf.core import CSRFTokenField
from wtforms.fields import HiddenField

from participation.extensions import db
from participation.formatting import LANGUAGE_NAMES
from participation.models import Phase, Tally, TallyEntry, TallyRule, VotingMethod

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


def page_language(client, path: str = "/", **headers) -> str:
    html = client.get(path, headers=headers).get_data(as_text=True)
    start = html.index('<html lang="') + len('<html lang="')
    return html[start : html.index('"', start)]


@pytest.mark.parametrize(
    ("accept_language", "expected"),
    [
        (None, "de"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("de-AT,de;q=0.9,en;q=0.5", "de"),
        ("fr-FR,fr;q=0.9", "de"),  # not offered: German
        ("fr-FR,fr;q=0.9,en;q=0.5", "en"),  # the best language the browser and the app share
    ],
)
def test_without_a_setting_the_browsers_language_decides_then_german(
    client, accept_language, expected
):
    headers = {"Accept-Language": accept_language} if accept_language else {}
    assert page_language(client, **headers) == expected


@pytest.mark.parametrize(("setting", "browser"), [("en", "de"), ("de", "en")])
def test_a_logged_in_users_setting_overrides_the_browsers_language(
    client, auth, factory, setting, browser
):
    consultation = factory.consultation(title="Marktplatz")
    auth.login(factory.user(locale=setting).email)
    path = f"/consultations/{consultation.slug}"
    html = client.get(path, headers={"Accept-Language": browser}).get_data(as_text=True)
    assert f'<html lang="{setting}">' in html
    phase = {"de": "Vorschläge sammeln", "en": "Collecting proposals"}
    assert phase[setting] in html
    assert phase[browser] not in html


def test_a_logged_in_user_without_a_setting_gets_the_browsers_language(client, auth, factory):
    auth.login(factory.user(locale=None).email)
    assert page_language(client, **{"Accept-Language": "en"}) == "en"
    assert page_language(client, **{"Accept-Language": "de"}) == "de"


def test_the_users_setting_overrides_a_language_chosen_before_logging_in(client, auth, factory):
    client.post("/language", data={"language": "de", "next": "/"})
    auth.login(factory.user(locale="en").email)
    assert page_language(client, **{"Accept-Language": "de"}) == "en"


def test_error_pages_follow_the_readers_language(client):
    assert page_language(client, "/no-such-page", **{"Accept-Language": "en"}) == "en"
    assert page_language(client, "/no-such-page") == "de"


# --- (g) dates, numbers and amounts are written the reader's way ------------------------

NBSP, NNBSP = "\xa0", "\u202f"  # Babel's no-break space (1.234 €) and narrow one (1:00 PM)
GERMAN, ENGLISH = {"Accept-Language": "de"}, {"Accept-Language": "en"}
MARCH_FIRST = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)  # 13:00 in Berlin


TABLE_CELL = re.compile(r"<td[^>]*>([^<]*)</td>")


def cells(html: str) -> list[str]:
    """The texts of the page's table cells that hold text only."""
    return TABLE_CELL.findall(html)


def html_of(client, path: str, headers: dict) -> str:
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_proposal_page_writes_cost_date_and_counts_per_locale(client, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.SUPPORT, budget=2_000_000
    )
    proposal = factory.proposal(
        consultation,
        factory.user(),
        estimated_cost=1_234_500,
        support_count=1234,
        comment_count=2345,
        created_at=MARCH_FIRST,
    )
    path = f"/proposals/{proposal.id}"

    german = html_of(client, path, GERMAN)
    assert f"<dd>1.234.500{NBSP}€</dd>" in german
    assert ">1. März 2027</time>" in german
    assert "1.234 Unterstützungen" in german
    assert "<dd>2.345</dd>" in german

    english = html_of(client, path, ENGLISH)
    assert "<dd>€1,234,500</dd>" in english
    assert ">March 1, 2027</time>" in english
    assert "1,234 supports" in english
    assert "<dd>2,345</dd>" in english


def test_the_proposal_list_writes_counts_per_locale(client, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    factory.proposal(consultation, factory.user(), support_count=1234, comment_count=1)
    path = f"/consultations/{consultation.slug}"
    german = html_of(client, path, GERMAN)
    assert "1.234 Unterstützungen" in german
    assert "1 Kommentar<" in german
    english = html_of(client, path, ENGLISH)
    assert "1,234 supports" in english
    assert "1 comment<" in english


def test_a_ballot_page_writes_amounts_and_dates_per_locale(client, auth, factory):
    consultation = factory.consultation(
        phase=Phase.EVALUATING,
        voting_method=VotingMethod.BUDGET,
        budget=1_234_567,
        voting_ends_on=date(2027, 3, 20),
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=12_345)
    citizen = factory.user()
    factory.ballot(consultation, citizen, [project], submitted_at=MARCH_FIRST)
    auth.login(citizen.email)
    path = f"/consultations/{consultation.slug}/ballot"

    german = html_of(client, path, GERMAN)
    assert "Ihr Stimmzettel wurde am 01.03.2027, 13:00:00 erfasst." in german
    assert f"<li>{project.title} (12.345{NBSP}€)</li>" in german
    assert f"<dd>1.234.567{NBSP}€</dd>" in german

    english = html_of(client, path, ENGLISH)
    assert f"Mar 1, 2027, 1:00:00{NNBSP}PM" in english
    assert f"<li>{project.title} (€12,345)</li>" in english
    assert "<dd>€1,234,567</dd>" in english


def test_a_budget_results_page_writes_amounts_with_cents_per_locale(app, client, factory):
    consultation = factory.consultation(
        phase=Phase.CLOSED,
        voting_method=VotingMethod.BUDGET,
        budget=1_000_000,
        tally_rule=TallyRule.EQUAL_SHARES,
        results_published_at=MARCH_FIRST,
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=12_345)
    with app.app_context():
        tally = Tally(
            consultation_id=consultation.id,
            rule=TallyRule.EQUAL_SHARES,
            comparison_rule=TallyRule.GREEDY,
            budget=1_000_000,
            ballot_count=2500,
        )
        tally.entries = [
            TallyEntry(
                proposal_id=project.id,
                cost=12_345,
                approvals=1500,
                funded_by_rule=True,
                position=1,
                share_cents=123_450,
                funded_by_comparison=True,
            )
        ]
        db.session.add(tally)
        db.session.commit()
    path = f"/consultations/{consultation.slug}/results"

    german = html_of(client, path, GERMAN)
    assert "Veröffentlicht am 1. März 2027." in german
    assert "2.500 Stimmzettel wurden abgegeben." in german
    assert f"12.345{NBSP}€" in cells(german)
    assert "1.500" in cells(german)
    assert f"1.234,50{NBSP}€" in cells(german)
    assert f"1.000.000{NBSP}€" in german

    english = html_of(client, path, ENGLISH)
    assert "Published on March 1, 2027." in english
    assert "2,500 ballots were cast." in english
    assert "€12,345" in cells(english)
    assert "1,500" in cells(english)
    assert "€1,234.50" in cells(english)
    assert "€1,000,000" in english


def test_a_support_results_page_writes_counts_and_dates_per_locale(client, factory):
    consultation = factory.consultation(
        phase=Phase.CLOSED, budget=50_000, results_published_at=MARCH_FIRST
    )
    factory.proposal(consultation, factory.user(), support_count=1234, estimated_cost=4500)
    path = f"/consultations/{consultation.slug}/results"

    german = html_of(client, path, GERMAN)
    assert "Veröffentlicht am 1. März 2027." in german
    assert "1.234" in cells(german)
    assert f"4.500{NBSP}€" in german

    english = html_of(client, path, ENGLISH)
    assert "Published on March 1, 2027." in english
    assert "1,234" in cells(english)
    assert "€4,500" in english


# --- (h) forms hold no untranslated text -------------------------------------------------

# Drawn by hand in the template named, which never shows the field's own label.
FIELDS_WITHOUT_SHOWN_LABEL = {
    ("BallotForm", "projects"): "ballots/show.html",
    ("BallotForm", "action"): "ballots/show.html",
    ("CodeBallotForm", "projects"): "ballots/show.html",
    ("CodeBallotForm", "action"): "ballots/show.html",
}
READABLE_RENDER_KW = ("placeholder", "title", "aria-label")


def form_classes() -> list[type]:
    import participation.forms as package

    found = []
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        found += [
            member
            for _, member in inspect.getmembers(module, inspect.isclass)
            if issubclass(member, FlaskForm) and member.__module__ == module.__name__
        ]
    assert len(found) > 10, "found suspiciously few forms"
    return sorted(found, key=lambda form: form.__name__)


FORMS = form_classes()


@pytest.fixture(scope="module")
def form_app():
    """The application without a database: forms need a request, not tables."""
    from participation import create_app

    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "testing",
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "WTF_CSRF_ENABLED": False,
        }
    )


def built(form_class: type, formdata=None) -> FlaskForm:
    """The form as a view builds it, with the choices that depend on the consultation."""
    form = form_class(formdata=formdata, meta={"csrf": False})
    if hasattr(form, "set_consultation"):
        form.set_consultation(SimpleNamespace(categories=[], needs_cost=True, budget=1000))
    return form


def shown_fields(form: FlaskForm):
    return [field for field in form if not isinstance(field, HiddenField | CSRFTokenField)]


def readable_texts(field) -> list[tuple[str, object]]:
    """What a reader sees or hears of a field: label, hint, choices, refusals, attributes."""
    texts = [("label", field.label.text), ("description", field.description)]
    for choice in getattr(field, "choices", None) or []:
        texts.append(("choice", choice.label if hasattr(choice, "label") else choice[1]))
    for validator in field.validators:
        texts.append((f"{type(validator).__name__} message", getattr(validator, "message", None)))
    for name in READABLE_RENDER_KW:
        texts.append((name, (field.render_kw or {}).get(name)))
    return [(what, text) for what, text in texts if text is not None and text != ""]


@pytest.mark.parametrize("form_class", FORMS, ids=[form.__name__ for form in FORMS])
def test_form_texts_are_translatable_and_translated(form_app, german, form_class):
    problems = []
    with form_app.test_request_context():
        for field in shown_fields(built(form_class)):
            exempt = FIELDS_WITHOUT_SHOWN_LABEL.get((form_class.__name__, field.name))
            for what, text in readable_texts(field):
                if what == "label" and exempt:
                    continue
                if what == "choice" and text in LANGUAGE_NAMES.values():
                    continue  # each language by its own name, never translated
                if not isinstance(text, LazyString):
                    if LETTER.search(str(text)):
                        problems.append(f"{field.name} {what} is not wrapped in _l(): {text!r}")
                    continue
                if not is_translated(german.get(text._args[0]), german):
                    problems.append(f"{field.name} {what} has no German: {text._args[0]!r}")
    assert not problems, problems


def test_fields_exempt_from_the_label_check_really_draw_no_label():
    for (form_name, field_name), template in FIELDS_WITHOUT_SHOWN_LABEL.items():
        source = (TEMPLATES / template).read_text(encoding="utf-8")
        assert f"form.{field_name}.label" not in source
        assert f"f.field(form.{field_name}" not in source
        assert form_name in {form.__name__ for form in FORMS}


# Values every field of a form gets at once, each wrong for some kind of field: missing, far
# too long, not a number or date, out of range; and one that differs per field (EqualTo).
BAD_INPUT = ["", "x" * 30_000, "-5", "99999999999999", None]


def refusals(form_app, form_class: type, value: str | None, locale: str) -> dict[str, list]:
    with form_app.test_request_context():
        names = [field.name for field in built(form_class)]
    data = {name: f"{name}-{index}" if value is None else value for index, name in enumerate(names)}
    with form_app.test_request_context(
        method="POST", data=data, headers={"Accept-Language": locale}
    ):
        form = built(form_class, formdata=request.form)
        form.validate()
        return {field.name: [str(error) for error in field.errors] for field in shown_fields(form)}


@pytest.mark.parametrize("form_class", FORMS, ids=[form.__name__ for form in FORMS])
def test_form_refusals_are_shown_in_german(form_app, form_class):
    """Also the messages WTForms writes itself ("This field is required.", "Not a valid
    choice."): every refusal reads differently in German than in English."""
    untranslated = []
    for value in BAD_INPUT:
        english = refusals(form_app, form_class, value, "en")
        german = refusals(form_app, form_class, value, "de")
        for name, messages in english.items():
            assert len(german[name]) == len(messages)
            untranslated += [m for m, de in zip(messages, german[name], strict=True) if m == de]
    assert not untranslated, f"refusals not in German: {sorted(set(untranslated))}"


def test_the_refusal_check_sees_wtforms_own_messages(form_app):
    """The check above would notice WTForms' built-in messages: they do reach the forms."""
    from participation.forms.accounts import RegisterForm

    assert refusals(form_app, RegisterForm, "", "en")["account_type"] == ["This field is required."]
    assert refusals(form_app, RegisterForm, "", "de")["account_type"] == [
        "Dieses Feld wird benötigt."
    ]
