"""Settings from the environment, friendly translated error pages, and the language switch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import escape

import config
from participation import create_app
from participation.extensions import db
from participation.models import User
from tests.conftest import csrf_token_from, make_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENGLISH = {"Accept-Language": "en"}


def page_language(client: FlaskClient, path: str = "/", **kwargs) -> str:
    page = client.get(path, **kwargs).get_data(as_text=True)
    start = page.index('<html lang="') + len('<html lang="')
    return page[start : page.index('"', start)]


# Settings


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_to_start_with_an_empty_secret_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "")

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_refuses_the_development_secret_key(monkeypatch):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", config.DEVELOPMENT_SECRET_KEY)

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def _start_production(tmp_path: Path, **environment: str) -> subprocess.CompletedProcess:
    """Start the app as gunicorn would (import wsgi), in a fresh interpreter."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DATABASE_URL", "FLASK_DEBUG", "PUBLIC_URL"}
    }
    env |= {
        "APP_ENV": "production",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'production.db'}",
        "INSTANCE_PATH": str(tmp_path / "instance"),
    } | environment
    return subprocess.run(
        [sys.executable, "-c", "from wsgi import app; print(app.config['SESSION_COOKIE_SECURE'])"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_starts_with_a_secret_key_and_secure_cookies(tmp_path):
    result = _start_production(
        tmp_path, SECRET_KEY="0123456789abcdef" * 4, PUBLIC_URL="https://town.example"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def test_production_start_without_secret_key_fails_with_an_explanation(tmp_path):
    result = _start_production(tmp_path)

    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_start_without_public_url_fails_with_an_explanation(tmp_path):
    """Links in e-mails must not be built from whatever Host header a request brings."""
    result = _start_production(tmp_path, SECRET_KEY="0123456789abcdef" * 4)

    assert result.returncode != 0
    assert "PUBLIC_URL must be set" in result.stderr


def test_unknown_app_env_is_refused(monkeypatch):
    monkeypatch.setenv("APP_ENV", "staging")

    with pytest.raises(RuntimeError, match="APP_ENV"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize(
    "given", ["postgres://user:pw@db.example/town", "postgresql://user:pw@db.example/town"]
)
def test_database_url_of_a_host_is_turned_into_psycopg3_form(monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)

    assert config.database_url("sqlite://") == "postgresql+psycopg://user:pw@db.example/town"


def test_database_url_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert config.database_url("sqlite:///default.db") == "sqlite:///default.db"


# Error pages


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    """A fresh app with routes that fail, answering as in production rather than raising."""
    fresh = make_app(app.config["SQLALCHEMY_DATABASE_URI"], PROPAGATE_EXCEPTIONS=False)

    @fresh.get("/test-only/crash")
    def crash():
        raise RuntimeError("internal detail: connection string postgres://secret")

    @fresh.get("/test-only/abort/<int:code>")
    def abort_with(code: int):
        abort(code)

    return fresh


def test_server_error_shows_a_friendly_page(failing_app):
    response = failing_app.test_client().get("/test-only/crash", headers=ENGLISH)

    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_server_error_page_shows_no_trace_or_exception_text(failing_app):
    page = failing_app.test_client().get("/test-only/crash").get_data(as_text=True)

    for leak in ("Traceback", "RuntimeError", "internal detail", "postgres://secret"):
        assert leak not in page


ENGLISH_TITLES = {
    400: "The request could not be understood",
    403: "You are not allowed to do this",
    404: "Page not found",
    405: "This action is not possible here",
    500: "Something went wrong on our side",
}


@pytest.mark.parametrize("code", sorted(ENGLISH_TITLES))
def test_error_page_is_friendly_in_english(failing_app, code):
    response = failing_app.test_client().get(f"/test-only/abort/{code}", headers=ENGLISH)

    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert ENGLISH_TITLES[code] in page
    assert '<html lang="en">' in page
    assert "Traceback" not in page


@pytest.mark.parametrize("code", sorted(ENGLISH_TITLES))
def test_error_page_is_german_by_default(failing_app, code):
    with failing_app.test_request_context(), force_locale("de"):
        german_title = gettext(ENGLISH_TITLES[code])

    page = failing_app.test_client().get(f"/test-only/abort/{code}").get_data(as_text=True)

    assert '<html lang="de">' in page
    assert str(escape(german_title)) in page


def test_unknown_address_gets_the_friendly_404_page(client):
    response = client.get("/no-such-page", headers=ENGLISH)

    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_get_on_a_post_only_address_gets_the_friendly_405_page(client):
    response = client.get("/account/logout", headers=ENGLISH)

    assert response.status_code == 405
    assert "This action is not possible here" in response.get_data(as_text=True)


def test_citizen_on_a_moderator_page_gets_the_friendly_403_page(client, auth, factory):
    auth.login(factory.user().email)

    response = client.get("/consultations/new", headers=ENGLISH)

    assert response.status_code == 403
    assert "You are not allowed to do this" in response.get_data(as_text=True)


def test_form_without_csrf_token_gets_the_friendly_400_page(csrf_client):
    response = csrf_client.post("/language", data={"language": "en"}, headers=ENGLISH)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The form has expired. Please reload the page and try again." in page
    assert "Traceback" not in page


# Language


def test_pages_are_german_by_default(client):
    assert page_language(client) == "de"


def test_accept_language_english_picks_english(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)

    assert '<html lang="en">' in page
    assert "Log in" in page


def test_accept_language_of_an_unsupported_language_falls_back_to_german(client):
    assert page_language(client, headers={"Accept-Language": "fr-FR,fr;q=0.9"}) == "de"


def test_language_switch_keeps_english_for_the_session(client):
    response = client.post("/language", data={"language": "en"})

    assert response.status_code == 302
    assert page_language(client) == "en"


def test_language_switch_beats_the_browser_language(client):
    client.post("/language", data={"language": "de"})

    assert page_language(client, headers=ENGLISH) == "de"


def test_language_switch_ignores_an_unknown_language(client):
    client.post("/language", data={"language": "xx"})

    assert page_language(client) == "de"


def test_language_switch_returns_to_the_page_it_was_used_on(client):
    response = client.post("/language", data={"language": "en", "next": "/consultations/"})

    assert response.headers["Location"] == "/consultations/"


def test_language_switch_does_not_redirect_to_another_site(client):
    response = client.post("/language", data={"language": "en", "next": "//evil.example/"})

    assert response.headers["Location"] == "/"


def test_language_switch_is_remembered_on_the_account(app, client, auth, factory):
    user = factory.user()
    auth.login(user.email)

    client.post("/language", data={"language": "en"})

    with app.app_context():
        assert db.session.get(User, user.id).locale == "en"


def test_account_language_applies_in_a_new_session(app, factory):
    user = factory.user(locale="en")
    client = app.test_client()
    client.post("/account/login", data={"email": user.email, "password": "correct horse battery"})

    assert page_language(client) == "en"


def test_language_switch_with_csrf_refuses_a_post_without_token(csrf_client):
    response = csrf_client.post("/language", data={"language": "en"})

    assert response.status_code == 400
    assert page_language(csrf_client) == "de"


def test_language_switch_with_csrf_accepts_the_token_of_the_page(csrf_client):
    token = csrf_token_from(csrf_client.get("/").get_data(as_text=True))

    response = csrf_client.post("/language", data={"language": "en", "csrf_token": token})

    assert response.status_code == 302
    assert page_language(csrf_client) == "en"


def test_the_app_imports_from_any_working_directory(tmp_path):
    """config.py and wsgi.py are installed with the package, not only found next to it."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "import config, wsgi; print(wsgi.app.name)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "APP_ENV": "testing", "INSTANCE_PATH": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "participation"
