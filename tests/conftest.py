"""Fixtures: one app per database backend (SQLite and a throwaway PostgreSQL), a clean
database for every test, test clients with and without CSRF, an `auth` helper and factories.

Every test that uses `app` runs on both backends. Without PostgreSQL binaries the PostgreSQL
half is skipped with a reason, unless PARTICIPATION_REQUIRE_POSTGRES=1 (CI) makes it fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

os.environ["APP_ENV"] = "testing"

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from flask_migrate import upgrade

from participation import create_app
from participation.extensions import db
from participation.models import Consultation, Proposal, User
from tests import postgres
from tests.factories import Factory
from tests.helpers import attached

BACKENDS = ("sqlite", "postgresql")
_skipped_backends: dict[str, str] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        action="append",
        help="run the database tests on this backend only (may repeat; default: both)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist the browser tests run together in one worker: they share one live
    server with the demo data and one Chromium, which each worker would otherwise start."""
    browser_tests = Path(__file__).parent / "browser"
    for item in items:
        if browser_tests in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or list(BACKENDS)
        if metafunc.definition.get_closest_marker("postgresql_only"):
            # A rule that only PostgreSQL enforces (row locks): no SQLite run to skip.
            chosen = [backend for backend in chosen if backend == "postgresql"]
        metafunc.parametrize("backend", chosen, scope="session")


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
        return
    try:
        with postgres.throwaway_server() as url:
            yield url
    except postgres.PostgresUnavailable as error:
        reason = f"PostgreSQL not available: {error}"
        _skipped_backends["postgresql"] = reason
        if os.environ.get(postgres.REQUIRE_VARIABLE) == "1":
            pytest.fail(f"{reason} (and {postgres.REQUIRE_VARIABLE}=1)", pytrace=False)
        pytest.skip(reason)


def make_app(database_url: str, **overrides) -> Flask:
    settings = {
        "TESTING": True,
        "SECRET_KEY": "testing",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": "localhost",
        "PROPOSALS_PER_PAGE": 5,
    }
    settings.update(overrides)
    return create_app(settings)


@pytest.fixture(scope="session")
def migrated_app(database_url: str) -> Flask:
    """The schema comes from the Alembic migrations, as in production."""
    app = make_app(database_url)
    with app.app_context():
        upgrade()
    return app


def _empty_tables(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())


@pytest.fixture
def app(migrated_app: Flask) -> Iterator[Flask]:
    yield migrated_app
    _empty_tables(migrated_app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    """The same database, with CSRF protection switched on as in production."""
    return make_app(app.config["SQLALCHEMY_DATABASE_URI"], WTF_CSRF_ENABLED=True)


@pytest.fixture
def csrf_client(csrf_app: Flask) -> FlaskClient:
    return csrf_app.test_client()


@pytest.fixture
def threaded_app(app: Flask) -> Iterator[Flask]:
    """The same database for threads; on SQLite a writer waits up to 30 s for the lock."""
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    options: dict = {"pool_pre_ping": True}
    if url.startswith("sqlite"):
        options["connect_args"] = {"timeout": 30}
    threaded = make_app(url, SQLALCHEMY_ENGINE_OPTIONS=options)
    yield threaded
    with threaded.app_context():
        db.engine.dispose()


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    """An application context for service tests (not for tests that send requests).

    Domain messages are read in English here, so tests can match their wording.
    """
    with app.app_context(), force_locale("en"):
        yield
        db.session.rollback()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


@pytest.fixture
def moderator(factory: Factory, ctx: None) -> User:
    """A moderator for service tests, attached to the `ctx` fixture's session."""
    return attached(User, factory.moderator())


@pytest.fixture
def citizen(factory: Factory, ctx: None) -> User:
    """A citizen for service tests, attached to the `ctx` fixture's session."""
    return attached(User, factory.user())


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


def login_with_csrf(client: FlaskClient, email: str) -> None:
    """Log in the way a browser does when CSRF protection is on: with the token of the form."""
    token = csrf_token_from(client.get("/account/login").get_data(as_text=True))
    response = client.post(
        "/account/login",
        data={"email": email, "password": Factory.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, email: str, password: str = Factory.PASSWORD):
        return self.client.post("/account/login", data={"email": email, "password": password})

    def logout(self):
        return self.client.post("/account/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    for backend, reason in _skipped_backends.items():
        terminalreporter.write_sep("!", f"SKIPPED the {backend} half of the suite: {reason}")


# Proposal lists that the service tests and the page tests both read

START = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


class ProposalList(NamedTuple):
    consultation: Consultation
    ids: list[int]


@pytest.fixture
def three_proposals_newest_first(factory: Factory) -> ProposalList:
    """Created in an order that differs from the submission dates, so the ids cannot decide."""
    consultation = factory.consultation()
    author = factory.user()
    middle = factory.proposal(consultation, author, created_at=START + timedelta(days=1))
    newest = factory.proposal(consultation, author, created_at=START + timedelta(days=2))
    oldest = factory.proposal(consultation, author, created_at=START)
    return ProposalList(consultation, [newest.id, middle.id, oldest.id])


@pytest.fixture
def four_proposals_most_supported_first(factory: Factory) -> ProposalList:
    """With 9, 5, 2 and no supports, created in another order."""
    consultation = factory.consultation()
    author = factory.user()
    few = factory.proposal(consultation, author, support_count=2)
    many = factory.proposal(consultation, author, support_count=9)
    none = factory.proposal(consultation, author, support_count=0)
    some = factory.proposal(consultation, author, support_count=5)
    return ProposalList(consultation, [many.id, some.id, few.id, none.id])


@pytest.fixture
def seven_proposals_newest_first(factory: Factory) -> ProposalList:
    """A minute apart: a first page of five and a second page of two."""
    consultation = factory.consultation()
    author = factory.user()
    oldest_first = [
        factory.proposal(consultation, author, created_at=START + timedelta(minutes=n)).id
        for n in range(7)
    ]
    return ProposalList(consultation, oldest_first[::-1])


@pytest.fixture
def thirty_proposals(factory: Factory) -> ProposalList:
    """In the order of submission; 30! orders leave no room for a random order to repeat."""
    consultation = factory.consultation()
    author = factory.user()
    ids = [factory.proposal(consultation, author).id for _ in range(30)]
    return ProposalList(consultation, ids)


@pytest.fixture
def proposal_in_parks(factory: Factory) -> tuple[Consultation, Proposal]:
    """The one proposal in "Parks"; the consultation has another in "Traffic" and one in none."""
    consultation = factory.consultation(categories=("Parks", "Traffic"))
    parks, traffic = consultation.categories
    author = factory.user()
    in_parks = factory.proposal(consultation, author, category_id=parks.id)
    factory.proposal(consultation, author, category_id=traffic.id)
    factory.proposal(consultation, author)
    return consultation, in_parks
