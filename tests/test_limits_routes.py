"""Every route of the site with bad input: for each rule of the url_map (one test per rule), any
of its methods, as any role (visitor, unconfirmed citizen, citizen, moderator, admin), with and
without CSRF protection and a valid token, hypothesis sends generated values: ids that are huge,
negative, not numbers or real, unknown or very long path values, odd query strings (pages, search
texts with NUL), and bodies built from the real forms of the site with fields missing, doubled,
very long, with control characters, sent as files, as JSON or with a wrong content type.

It asserts that no answer is a server error (5xx or an exception), that no HTML page carries a
raw control character, and that after a refused request (400 and above) every table holds the
rows it held before: nothing is half-saved.

Everything comes from the application itself, so that a new route, converter or form is covered
without editing this file: the rules from the url_map; real path values, query strings and forms
from the pages of a world of test data (crawled once per backend as each role) and from the links
of the mails in its outbox; ids and other path values also from the stored rows, by the name of
the placeholder. Each example starts from that world: a request that wrote puts it back.

The examples are derandomized, so that a red run is red again with the same command. To look for
new problems with new random examples, and more of them: PARTICIPATION_ROUTE_WALK=explore.
"""

from __future__ import annotations

import io
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect, Rule

from participation.extensions import db
from participation.models import (
    AccountType,
    CommentState,
    EmailFrequency,
    InitiativeUpdate,
    OutboxMail,
    Phase,
    ProposalState,
    User,
)
from participation.services import accounts, budgeting, comments
from participation.services.accounts import login_sessions
from participation.services.limits import MAX_ID
from tests.budget_data import (
    budget_consultation,
    budget_election,
    extreme_consultation,
    majority_and_minority_election,
    store_tally,
)
from tests.conftest import START, _empty_tables, csrf_token_from, make_app
from tests.factories import Factory
from tests.helpers import add_comment_notifications, attached
from tests.routes import build_path, methods, placeholders, rule_key, throwaway_rules

settings.register_profile(
    "route-walk-ci",
    max_examples=25,
    derandomize=True,
    database=None,
    deadline=None,
    # The world is set up once per backend and put back by the test itself.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
settings.register_profile(
    "route-walk-explore", settings.get_profile("route-walk-ci"), max_examples=300, derandomize=False
)
PROFILE = f"route-walk-{os.environ.get('PARTICIPATION_ROUTE_WALK', 'ci')}"

ROLES = ("visitor", "unconfirmed", "citizen", "moderator", "admin")
CSRF_MODES = ("off", "off", "valid", "missing", "forged")  # "off": the app of most tests
RAW_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MAIL_LINK = re.compile(r"https?://[^/\s]+(/[^\s<>\"')]*)")

BAD_IDS = [
    "0", "-1", "00", "007", " 1", "1.5", "1e3", "0x10", "abc", "١٢", "9" * 5000,
    str(MAX_ID), str(MAX_ID + 1), str(2**63 - 1), str(2**63), str(2**64), "9" * 30,
]  # fmt: skip
BAD_SEGMENTS = [
    "x", "", ".", "..", "-", "%", "%00", "\x00", "a\x00b", "\x1b[31m", "\r\n", "\t", "ß", "😀",
    "<script>", "' OR 1=1 --", "new", "edit", "x" * 300, "y" * 5000,
]  # fmt: skip
BAD_VALUES = [
    "", " ", "0", "1", "-1", "-0", "2147483648", "9223372036854775808", "99999999999999999999",
    "9" * 5000, "1e9999", "NaN", "Infinity", "0x1F", "1,5", "true", "null", "[]", "{}",
    "9999-12-31", "0001-01-01", "99999-01-01", "2026-02-30", "0000-00-00",
    "\x00", "a\x00b", "\x1b[31mred", "\r\n", "\t", "\x7f", "\u202eevil", "\ufeff", "😀" * 50,
    "<script>alert(1)</script>", "' OR 1=1 --", "%", "_", "../..", "//evil.example",
    "javascript:alert(1)", "x" * 161, "y" * 5_001, "z" * 20_001,
]  # fmt: skip
CONTROL_CHARACTERS = [chr(code) for code in (*range(32), 127)]
HUGE_VALUE = "w" * 600_000  # above what Werkzeug parses from a form by default
QUERY_NAMES = ["page", "q", "next", "sort", "category", "answer", "status", "consultation"]
CONTENT_TYPES = [
    "text/plain", "application/xml", "application/json", "application/octet-stream",
    "multipart/form-data", "multipart/form-data; boundary=nothing",
    "application/x-www-form-urlencoded; charset=utf-16",
]  # fmt: skip
ACCEPT = [None, "text/html", "application/json", "*/*", "application/json;q=0.9, text/html;q=0.1"]
LANGUAGES = [None, "en", "de", "fr", "xx-invalid;q=x", "*"]
PAGES_PER_ROLE, PAGES_PER_RULE = 300, 10  # how far the crawl of the world goes


# What the pages show: links and forms


@dataclass
class SeenForm:
    """A form as a browser would send it, with every value its fields offer."""

    action: str
    method: str
    submission: list[tuple[str, str]] = field(default_factory=list)
    choices: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


class PageReader(HTMLParser):
    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.links: list[str] = []
        self.forms: list[SeenForm] = []
        self._form: SeenForm | None = None
        self._textarea: list[str] | None = None
        self._select: tuple[str, list[str], list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        name = attributes.get("name", "")
        address = attributes.get("src" if tag == "script" else "href")
        if tag in ("a", "link", "script") and address:
            self.links.append(urljoin(self.url, address))
        elif tag == "form":
            action = urljoin(self.url, attributes.get("action") or self.url)
            self._form = SeenForm(action, (attributes.get("method") or "get").upper())
            self.forms.append(self._form)
        elif self._form is None or (not name and tag != "option"):
            return
        elif tag == "input":
            self._input(name, attributes)
        elif tag == "button" and attributes.get("type", "submit") == "submit":
            self._offer(name, attributes.get("value", ""), sent=not self._sends(name))
        elif tag == "textarea":
            self._textarea = [name, ""]
        elif tag == "select":
            self._select = (name, [], [])
        elif tag == "option" and self._select is not None:
            value = attributes.get("value", "")
            self._select[1].append(value)
            if "selected" in attributes:
                self._select[2].append(value)

    def _input(self, name: str, attributes: dict[str, str]) -> None:
        kind = attributes.get("type", "text").lower()
        value = attributes.get("value", "on" if kind in ("checkbox", "radio") else "")
        if kind in ("checkbox", "radio"):
            self._offer(name, value, sent="checked" in attributes)
        elif kind in ("submit", "image"):
            self._offer(name, value, sent=not self._sends(name))
        elif kind not in ("button", "reset", "file"):
            self._offer(name, value, sent=True)

    def _sends(self, name: str) -> bool:
        return any(sent == name for sent, _value in self._form.submission)

    def _offer(self, name: str, value: str, *, sent: bool) -> None:
        self._form.choices[name].append(value)
        if sent:
            self._form.submission.append((name, value))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None and self._form is not None:
            self._offer(*self._textarea, sent=True)
            self._textarea = None
        elif tag == "select" and self._select is not None and self._form is not None:
            name, options, selected = self._select
            for value in options:
                self._form.choices[name].append(value)
            if options:
                self._form.submission.append((name, (selected or options)[0]))
            self._select = None
        elif tag == "form":
            self._form = None


# The world: the data every example starts from, and what its pages show


@dataclass
class Session:
    cookie: str  # the signed session cookie: logged in (or not), with a CSRF secret
    token: str  # a valid CSRF token of that session


@dataclass
class RealUse:
    """What the site itself sends to one rule: path values, query strings and forms."""

    args: list[dict[str, Any]] = field(default_factory=list)
    queries: list[list[tuple[str, str]]] = field(default_factory=list)
    forms: list[SeenForm] = field(default_factory=list)


@dataclass(repr=False)  # a failing example prints the fixture: not every row of the world
class World:
    app: Flask
    csrf_app: Flask
    tables: dict[str, list[dict[str, Any]]]  # every row, as it was when the world was built
    sessions: dict[str, Session]
    real: dict[str, RealUse]
    ids_by_table: dict[str, list[str]]
    values_by_column: dict[str, list[str]]
    field_names: list[str]
    field_values: list[str]
    query_names: list[str]
    writes: list[str] = field(default_factory=list)  # statements that changed rows
    quiet: bool = False  # while the test itself puts the world back

    def __repr__(self) -> str:
        return f"<World of {sum(map(len, self.tables.values()))} rows>"

    def _repr_pretty_(self, printer: Any, _cycle: bool) -> None:  # what hypothesis prints
        printer.text(repr(self))

    def rule(self, key: str) -> Rule:
        [rule] = [rule for rule in self.app.url_map.iter_rules() if rule_key(rule) == key]
        return rule

    def read_tables(self) -> dict[str, list[dict[str, Any]]]:
        with self.app.app_context(), db.engine.connect() as connection:
            return {
                table.name: [
                    dict(row._mapping)
                    for row in connection.execute(
                        table.select().order_by(*table.primary_key.columns)
                    )
                ]
                for table in db.metadata.sorted_tables
            }

    def put_back(self) -> None:
        """Every table as it was when the world was built."""
        self.quiet = True
        try:
            _empty_tables(self.app)
            with self.app.app_context(), db.engine.begin() as connection:
                for table in db.metadata.sorted_tables:
                    if self.tables[table.name]:
                        connection.execute(table.insert(), self.tables[table.name])
        finally:
            self.quiet = False
            self.writes.clear()

    def ids_for(self, name: str) -> list[str]:
        """Ids of the table a placeholder names ("proposal_id": proposals), else of every
        table."""
        stem = name.removesuffix("_id")
        named = [ids for table, ids in self.ids_by_table.items() if table.rstrip("s") == stem]
        return sorted({value for ids in named or self.ids_by_table.values() for value in ids})

    def values_named(self, name: str) -> list[str]:
        seen = {str(args[name]) for use in self.real.values() for args in use.args if name in args}
        return sorted(seen | set(self.values_by_column.get(name, [])))


def _build_data(factory: Factory) -> dict[str, str]:
    """Consultations in every phase (support and budget), proposals, comments (published, a
    reply, hidden, deleted), supports, ballots, tallies, initiatives with an update, reports,
    follows, notifications and mails with links; returns the session ids of the role users."""
    app = factory.app
    admin, moderator = factory.admin(), factory.moderator()
    citizen = factory.user(locale="en")
    other = factory.user(account_type=AccountType.ORGANISATION)
    factory.user(is_blocked=True)
    with app.app_context(), force_locale("en"):
        unconfirmed = login_sessions.start(
            accounts.register(
                email="unconfirmed@example.org", display_name="Una", password=Factory.PASSWORD
            )
        )

    for phase in Phase:
        consultation = factory.consultation(
            phase=phase,
            categories=("Parks", "Traffic"),
            budget=1000,
            max_supports=3,
            results_published_at=START if phase is Phase.CLOSED else None,
        )
        parks = consultation.categories[0]
        own = factory.proposal(
            consultation, citizen, category_id=parks.id, estimated_cost=400,
            support_count=1, comment_count=2, selected=phase in (Phase.EVALUATING, Phase.CLOSED),
        )  # fmt: skip
        factory.proposal(consultation, citizen, state=ProposalState.WITHDRAWN)
        factory.proposal(consultation, other, state=ProposalState.HIDDEN, hidden_reason="Spam.")
        theirs = factory.proposal(consultation, other, estimated_cost=700, support_count=1)
        factory.support(own, other)
        factory.support(theirs, citizen)
        factory.follow(citizen, own)
        factory.follow(citizen, consultation)
        first = factory.comment(own, citizen)
        reply = factory.comment(own, other, parent_id=first.id)
        factory.comment(own, other, CommentState.HIDDEN, hidden_reason="Offensive.")
        factory.comment(own, citizen, CommentState.DELETED, body="")
        factory.report(other, proposal=own)
        factory.report(citizen, comment=reply)
        if phase is Phase.CLOSED:
            initiative = factory.initiative(own)
            with app.app_context():
                db.session.add(
                    InitiativeUpdate(
                        initiative_id=initiative.id,
                        author_id=moderator.id,
                        happened_on=START.date(),
                        body="Work has started.",
                    )
                )
                db.session.commit()
        if phase is Phase.COLLECTING:
            with app.app_context(), force_locale("en"):
                add_comment_notifications(citizen.id, own, reply.id, 3)
                factory.email_frequency(citizen, EmailFrequency.IMMEDIATE)
                comments.add(attached(type(own), own), attached(User, other), "New comment.")

    budget_consultation(factory, {"A": 600, "B": 500}, phase=Phase.COLLECTING)
    extreme_consultation(factory, citizen)
    voting, projects = budget_consultation(factory, {"A": 60, "B": 50, "C": 40}, Phase.VOTING)
    factory.ballot(voting, citizen, [projects["A"]])
    evaluating, counted_projects = majority_and_minority_election(factory)
    store_tally(app, budget_election(factory, phase=Phase.CLOSED, published=True))
    with app.app_context(), force_locale("en"):
        counted = attached(type(evaluating), evaluating)
        budgeting.results.compute(counted, attached(User, moderator))
        dropped = attached(type(counted_projects["C"]), counted_projects["C"])
        budgeting.results.override(
            counted, attached(User, moderator), dropped, False, "Too expensive for now."
        )
        accounts.request_password_reset(citizen.email)
        accounts.settings.request_email_change(
            attached(User, citizen), "citizen.new@example.org", Factory.PASSWORD
        )
        logins = {
            role: login_sessions.start(attached(User, user))
            for role, user in (("citizen", citizen), ("moderator", moderator), ("admin", admin))
        }
    return {"unconfirmed": unconfirmed, **logins}


def _session(csrf_app: Flask, session_id: str | None) -> Session:
    """A session of the account with `session_id` (a visitor's for None) and its CSRF token."""
    client = csrf_app.test_client()
    if session_id is not None:
        with client.session_transaction() as session:
            session["_user_id"] = session_id
            session["_fresh"] = True
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return Session(client.get_cookie("session").value, token)


class Crawl:
    """Follows the links of the site as one role after the other, taking the rules in turn (so
    that every rule linked from anywhere is visited) up to PAGES_PER_RULE pages each, and notes
    which rule each link, form and link of a mail goes to."""

    def __init__(self, app: Flask, real: dict[str, RealUse]) -> None:
        self.app = app
        self.real = real
        self.adapter = app.url_map.bind("localhost")
        self.forms: dict[tuple, SeenForm] = {}

    def note(self, url: str, method: str) -> Rule | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        try:
            rule, args = self.adapter.match(parts.path, method=method, return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        use = self.real[rule_key(rule)]
        if args and args not in use.args:
            use.args.append(args)
        query = parse_qsl(parts.query, keep_blank_values=True)
        if query and query not in use.queries:
            use.queries.append(query)
        return rule

    def as_role(self, session: Session) -> None:
        client = self.app.test_client()
        client.set_cookie("session", session.cookie)
        waiting: dict[str, list[str]] = defaultdict(list)  # by rule
        visits: dict[str, int] = defaultdict(int)
        known: set[str] = set()

        def follow(url: str) -> None:
            rule = self.note(url, "GET")
            if rule is not None and not rule.endpoint.endswith("static") and url not in known:
                known.add(url)
                waiting[rule_key(rule)].append(url)

        follow("http://localhost/")
        for _page in range(PAGES_PER_ROLE):
            open_rules = [key for key, urls in waiting.items() if urls]
            key = min(open_rules, key=lambda key: visits[key], default=None)
            if key is None or visits[key] >= PAGES_PER_RULE:
                break
            visits[key] += 1
            url = waiting[key].pop(0)
            response = client.get(url)
            html = response.get_data(as_text=True)  # a streamed download ends (and its context)
            if response.mimetype != "text/html":
                continue
            page = PageReader(url)
            page.feed(html)
            for link in page.links:
                follow(link)
            for form in page.forms:
                self._note_form(form)
                if form.method == "GET":
                    follow(f"{form.action}?{urlencode(form.submission)}")

    def _note_form(self, form: SeenForm) -> None:
        form.submission = [pair for pair in form.submission if pair[0] != "csrf_token"]
        rule = self.note(form.action, form.method)
        identity = (form.action, form.method, tuple(form.submission))
        if rule is not None and identity not in self.forms:
            self.forms[identity] = form
            self.real[rule_key(rule)].forms.append(form)

    def mails(self) -> None:
        with self.app.app_context():
            for body in db.session.scalars(db.select(OutboxMail.text_body)):
                for path in MAIL_LINK.findall(body):
                    self.note(path, "GET")


def _column_values(tables: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """The short texts stored in each column name: slugs, kinds, states …"""
    columns: dict[str, set[str]] = defaultdict(set)
    for rows in tables.values():
        for row in rows:
            for column, value in row.items():
                if isinstance(value, str) and len(value) < 100:
                    columns[column].add(value)
    return {column: sorted(values) for column, values in columns.items()}


@pytest.fixture(scope="module")
def world(migrated_app: Flask) -> Iterator[World]:
    """Built and crawled once per backend; the tables are empty between the tests, each test
    puts the world back first."""
    _empty_tables(migrated_app)
    csrf_app = make_app(migrated_app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)
    session_ids = {"visitor": None} | _build_data(Factory(migrated_app))
    sessions = {role: _session(csrf_app, session_id) for role, session_id in session_ids.items()}
    real: dict[str, RealUse] = defaultdict(RealUse)
    crawl = Crawl(migrated_app, real)
    for session in sessions.values():
        crawl.as_role(session)
    crawl.mails()
    forms = list(crawl.forms.values())
    walked = World(
        app=migrated_app,
        csrf_app=csrf_app,
        tables={},
        sessions=sessions,
        real=real,
        ids_by_table={},
        values_by_column={},
        field_names=sorted({name for form in forms for name in form.choices}),
        field_values=sorted(
            {value for form in forms for values in form.choices.values() for value in values}
        ),
        query_names=sorted(
            set(QUERY_NAMES)
            | {name for use in real.values() for query in use.queries for name, _ in query}
        ),
    )
    walked.tables = walked.read_tables()
    walked.ids_by_table = {
        name: [str(row["id"]) for row in rows if "id" in row]
        for name, rows in walked.tables.items()
    }
    walked.values_by_column = _column_values(walked.tables)
    _empty_tables(migrated_app)

    def note_write(_connection, _cursor, statement: str, *_arguments) -> None:
        verb = statement.lstrip()[:9].upper()
        if not walked.quiet and not verb.startswith(("SELECT", "PRAGMA", "SAVEPOINT", "RELEASE")):
            walked.writes.append(statement)

    engines = []
    for app in (migrated_app, csrf_app):
        with app.app_context():
            engines.append(db.engine)
    for engine in engines:
        event.listen(engine, "before_cursor_execute", note_write)
    yield walked
    for engine in engines:
        event.remove(engine, "before_cursor_execute", note_write)
    with csrf_app.app_context():
        db.engine.dispose()


@pytest.fixture
def walk(world: World) -> Iterator[World]:
    world.put_back()
    yield world
    _empty_tables(world.app)


# The requests


@dataclass
class Sent:
    role: str
    csrf: str
    method: str
    url: str
    headers: dict[str, str]
    body: dict[str, Any]

    def __repr__(self) -> str:
        def short(value: Any) -> Any:
            if isinstance(value, str | bytes) and len(value) > 80:
                return f"{value[:40]!r}…({len(value)} long)"
            if isinstance(value, MultiDict):
                return [(name, short(item)) for name, item in value.items(multi=True)]
            if isinstance(value, tuple):
                return tuple(short(item) for item in value)
            if isinstance(value, list | dict):
                return short(repr(value))
            return value

        body = {name: short(value) for name, value in self.body.items()}
        return (
            f"{self.method} {short(self.url)} as {self.role} (CSRF {self.csrf}), "
            f"headers {self.headers}, body {body}"
        )


def texts(max_size: int) -> st.SearchStrategy[str]:
    return st.text(st.characters(codec="utf-8"), max_size=max_size)


def one_of_known(known: list[str], *others: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """A known value first (what shrinking comes back to), or one of the others."""
    return st.one_of(*([st.sampled_from(known)] if known else []), *others)


def path_value(world: World, name: str, converter: str) -> st.SearchStrategy[str]:
    if converter == "int":
        numbers = st.integers(min_value=-10, max_value=2**70).map(str)
        return one_of_known(world.ids_for(name), st.sampled_from(BAD_IDS), numbers)
    return one_of_known(world.values_named(name), st.sampled_from(BAD_SEGMENTS), texts(40))


def with_control_character() -> st.SearchStrategy[str]:
    return st.builds("{}{}{}".format, texts(8), st.sampled_from(CONTROL_CHARACTERS), texts(8))


def field_value(
    world: World, offered: list[str] = (), *, huge: bool = False
) -> st.SearchStrategy[str]:
    """A value a field offers or the site shows somewhere, or a bad one (as likely); `huge`:
    maybe one larger than a form may be (a body, not an address, carries that)."""
    bad = [st.sampled_from(BAD_VALUES), with_control_character()]
    return st.one_of(
        one_of_known([*offered, *world.field_values], texts(40)),
        st.one_of(*bad, *([st.just(HUGE_VALUE)] if huge else [])),
    )


def mostly(strategy: st.SearchStrategy, otherwise: st.SearchStrategy) -> st.SearchStrategy:
    """`strategy` three times in four: most examples should get past the first lookup."""
    return st.one_of(strategy, strategy, strategy, otherwise)


@st.composite
def path_of(draw, rule: Rule, world: World, use: RealUse) -> str:
    base = draw(mostly(st.sampled_from(use.args), st.just({}))) if use.args else {}
    values = {}
    for name, converter in placeholders(rule):
        bad = path_value(world, name, converter)
        values[name] = draw(mostly(st.just(str(base[name])), bad) if name in base else bad)
    return build_path(rule, lambda name, _converter: values[name])


@st.composite
def fields_of(
    draw, world: World, forms: list[SeenForm], names: list[str], *, huge: bool = False
) -> list[tuple[str, str]]:
    """The fields of one of `forms` as a browser sends them, some missing, doubled or with bad
    values (or none of them), and maybe a few more, named from `names`."""
    form = draw(mostly(st.sampled_from(forms), st.none())) if forms else None
    pairs: list[tuple[str, str]] = []
    for name, value in form.submission if form else []:
        change = draw(st.sampled_from(("keep", "bad", "bad", "drop", "double")))
        if change in ("keep", "double"):
            pairs.append((name, value))
        if change in ("bad", "double"):
            offered = form.choices.get(name, [])
            pairs.append((name, draw(field_value(world, offered, huge=huge))))
    named = st.sampled_from(names) if names else texts(10)
    extra = st.tuples(named, field_value(world, huge=huge))
    return [*pairs, *draw(st.lists(extra, max_size=2))]


def query_forms(use: RealUse) -> list[SeenForm]:
    """The query strings of the rule's links and its forms that are sent with GET."""
    linked = [SeenForm("", "GET", query) for query in use.queries]
    return linked + [form for form in use.forms if form.method == "GET"]


@st.composite
def body_of(draw, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    encoding = draw(st.sampled_from(("form", "form", "multipart", "files", "json", "raw")))
    if encoding == "form":
        return {"data": MultiDict(pairs)}
    if encoding == "multipart":
        return {"data": MultiDict(pairs), "content_type": "multipart/form-data"}
    if encoding == "files":
        parts = MultiDict()
        for name, value in pairs:
            as_file = draw(st.booleans())
            parts.add(name, (io.BytesIO(value.encode()), "upload.txt") if as_file else value)
        return {"data": parts, "content_type": "multipart/form-data"}
    if encoding == "json":
        numbers = {name: int(value) for name, value in pairs if re.fullmatch("[0-9]{1,30}", value)}
        document = draw(
            st.sampled_from(
                [dict(pairs), [value for _name, value in pairs], len(pairs), dict(pairs) | numbers]
            )
        )
        return {"json": document}
    raw = draw(
        st.one_of(st.binary(max_size=200), st.just(b'{"a": '), st.just(urlencode(pairs).encode()))
    )
    return {"data": raw, "content_type": draw(st.sampled_from(CONTENT_TYPES))}


@st.composite
def requests_to(draw, rule: Rule, world: World) -> Sent:
    use = world.real.get(rule_key(rule), RealUse())
    role = draw(st.sampled_from(ROLES))
    csrf = draw(st.sampled_from(CSRF_MODES))
    method = draw(st.sampled_from(methods(rule)))
    query = draw(fields_of(world, query_forms(use), world.query_names))
    url = draw(path_of(rule, world, use)) + (f"?{urlencode(query)}" if query else "")
    headers = {
        name: value
        for name, value in (
            ("Accept", draw(st.sampled_from(ACCEPT))),
            ("Accept-Language", draw(st.sampled_from(LANGUAGES))),
        )
        if value is not None
    }
    body: dict[str, Any] = {}
    if method != "GET":
        posted = [form for form in use.forms if form.method != "GET"]
        pairs = draw(fields_of(world, posted, world.field_names, huge=True))
        token = world.sessions[role].token
        if csrf == "valid":
            pairs.append(("csrf_token", token))
            if draw(st.booleans()):
                headers["X-CSRFToken"] = token
        elif csrf == "forged":
            pairs.append(("csrf_token", token[::-1]))
        body = draw(body_of(pairs))
    return Sent(role, csrf, method, url, headers, body)


# The test


def _changed_tables(before: dict[str, list], after: dict[str, list]) -> dict[str, str]:
    return {
        name: f"{len(rows)} rows before, {len(after[name])} after"
        for name, rows in before.items()
        if rows != after[name]
    }


def send(world: World, sent: Sent) -> None:
    app = world.app if sent.csrf == "off" else world.csrf_app
    client = app.test_client()
    client.set_cookie("session", world.sessions[sent.role].cookie)
    try:
        response = client.open(sent.url, method=sent.method, headers=sent.headers, **sent.body)
        page = response.get_data()  # a streamed download runs to its end here
    except Exception as error:
        raise AssertionError(f"{sent!r} raised {error!r}") from error
    assert response.status_code < 500, f"{sent!r} answered {response.status_code}"
    if response.mimetype == "text/html":
        found = RAW_CONTROL_CHARACTER.search(page.decode("utf-8", "replace"))
        assert found is None, f"{sent!r} wrote {found.group()!r} into the page"
    if response.status_code >= 400 and world.writes:
        changed = _changed_tables(world.tables, world.read_tables())
        assert not changed, f"{sent!r} was refused ({response.status_code}) but changed {changed}"


@pytest.mark.parametrize("key", [rule_key(rule) for rule in throwaway_rules()])
@settings(settings.get_profile(PROFILE))
@given(data=st.data())
def test_bad_input_is_answered_without_server_error_or_half_saved_rows(walk, key, data):
    sent = data.draw(requests_to(walk.rule(key), walk), label="request")
    try:
        send(walk, sent)
    finally:
        if walk.writes:
            walk.put_back()


def _real_path(rule: Rule, world: World, use: RealUse) -> str:
    """The rule's address with the values a page links to, else with stored ones."""
    if use.args:
        return build_path(rule, lambda name, _converter: str(use.args[0][name]))

    def stored(name: str, converter: str) -> str:
        known = world.ids_for(name) if converter == "int" else world.values_named(name)
        return known[0] if known else "x"

    return build_path(rule, stored)


@pytest.mark.parametrize("key", [rule_key(rule) for rule in throwaway_rules()])
def test_every_role_gets_an_answer_from_every_route_with_real_values(walk, key):
    """The generated examples draw a role and a method each; here every pair of them is sent
    once, with a real address and form and a valid CSRF token, so that none is left out."""
    rule = walk.rule(key)
    use = walk.real.get(key, RealUse())
    url = _real_path(rule, walk, use)
    posted = [form.submission for form in use.forms if form.method != "GET"]
    for method in methods(rule):
        for role in ROLES:
            fields = [*(posted[0] if posted else []), ("csrf_token", walk.sessions[role].token)]
            body = {} if method == "GET" else {"data": MultiDict(fields)}
            try:
                send(walk, Sent(role, "valid", method, url, {}, body))
            finally:
                if walk.writes:
                    walk.put_back()
