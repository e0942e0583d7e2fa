"""Fixtures: one app per database backend (SQLite and a throwaway PostgreSQL), a clean
database for every test, test clients with and without CSRF, an `auth` helper and factories.

Every test that uses `app` runs on both backends. Without PostgreSQL binaries the PostgreSQL
half is skipped with a reason, unless PARTICIPATION_REQUIRE_POSTGRES=1 (CI) makes it fail.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

os.environ["APP_ENV"] = "testing"

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from participation import create_app
from participation.extensions import db
from tests import postgres
from tests.factories import Factory

BACKENDS = ("sqlite", "postgresql")
_skipped_backends: dict[str, str] = {}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend",
        choices=BACKENDS,
        action="append",
        help="run the database tests on this backend only (may repeat; default: both)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("backend") or list(BACKENDS)
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
def ctx(app: Flask) -> Iterator[None]:
    """An application context for service tests (not for tests that send requests)."""
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def factory(app: Flask) -> Factory:
    return Factory(app)


CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


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
