"""Register, log in and log out through real HTTP requests of the test client."""

from __future__ import annotations

import logging

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from participation import create_app
from participation.extensions import db, limiter
from participation.models import AccountType, User
from participation.services import mail
from tests.conftest import csrf_token_from, login_with_csrf, make_app
from tests.factories import Factory
from tests.helpers import without_csrf_tokens
from tests.mailbox import mails_to

PASSWORD = "a long enough passphrase"
ENGLISH = {"Accept-Language": "en"}
LOGOUT_FORM = 'action="/account/logout"'


def registration(**fields: str) -> dict[str, str]:
    values = {
        "email": "anna@example.org",
        "display_name": "Anna Schmidt",
        "account_type": "person",
        "password": PASSWORD,
        "password_repeat": PASSWORD,
    }
    return values | fields


def login_form(**fields: str) -> dict[str, str]:
    """Anna's e-mail address and the right password, unless the test says otherwise."""
    return {"email": "anna@example.org", "password": Factory.PASSWORD} | fields


def users(app: Flask) -> list[User]:
    with app.app_context():
        found = db.session.scalars(select(User).order_by(User.id)).all()
        db.session.expunge_all()
        return list(found)


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def logged_in_user_id(client: FlaskClient) -> str | None:
    """The account id in the session cookie (which holds "id:token of the login")."""
    with client.session_transaction() as session:
        value = session.get("_user_id")
    return value.partition(":")[0] if value else None


# Registration


def test_register_page_has_labelled_fields(client):
    page = client.get("/account/register").get_data(as_text=True)

    for field in ("email", "display_name", "password", "password_repeat"):
        assert f'for="{field}"' in page


def test_register_creates_an_account_with_an_argon2id_hash(app, client):
    response = client.post("/account/register", data=registration())

    assert response.status_code == 302
    [user] = users(app)
    assert user.email == "anna@example.org"
    assert user.password_hash.startswith("$argon2id$")


def test_register_logs_nobody_in(app, client):
    """Somebody registering with another person's address must not get in; so, to answer
    alike, nobody is logged in by registering: they log in once they have the mail."""
    client.post("/account/register", data=registration())

    assert logged_in_user_id(client) is None
    assert LOGOUT_FORM not in client.get("/").get_data(as_text=True)


def test_register_sends_to_the_page_that_says_where_the_link_went(client):
    response = client.post("/account/register", data=registration(), headers=ENGLISH)

    assert response.headers["Location"] == "/account/register/sent"
    page = client.get("/account/register/sent", headers=ENGLISH).get_data(as_text=True)
    assert "We have sent a link to anna@example.org." in page
    assert 'href="/account/login"' in page


def _answer(client: FlaskClient, email: str) -> tuple[int, str, str]:
    """The status, the redirect and the page it leads to, with the address (and the random
    CSRF token of each browser's session) blanked out."""
    response = client.post("/account/register", data=registration(email=email), headers=ENGLISH)
    page = client.get(response.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    page = without_csrf_tokens(page.replace(email, "ADDRESS"))
    return response.status_code, response.headers["Location"], page


def test_register_answers_the_same_whether_the_address_has_an_account_or_not(app, factory):
    factory.user(email="anna@example.org")

    taken = _answer(app.test_client(), "anna@example.org")
    free = _answer(app.test_client(), "bruno@example.org")

    assert taken == free
    assert taken[0] == 302


def test_register_with_an_address_that_has_an_account_creates_nothing(app, client, factory):
    owner = factory.user(email="anna@example.org")

    client.post("/account/register", data=registration(email="Anna@Example.org"))

    assert [user.id for user in users(app)] == [owner.id]
    assert logged_in_user_id(client) is None


def test_register_with_an_address_that_has_an_account_mails_its_owner(app, client, factory):
    factory.user(email="anna@example.org")

    client.post("/account/register", data=registration(email="ANNA@example.org"))

    assert [row.purpose for row in mails_to(app, "anna@example.org")] == [mail.ACCOUNT_EXISTS]


def test_register_mails_a_new_address_the_confirmation_link(app, client):
    client.post("/account/register", data=registration())

    assert [row.purpose for row in mails_to(app, "anna@example.org")] == [mail.CONFIRM_EMAIL]


def test_the_sent_page_keeps_the_address_out_of_the_links(client):
    """An address in a URL would end up in the server's access log."""
    response = client.post("/account/register?next=/consultations/", data=registration())

    assert "anna" not in response.headers["Location"]


def test_register_refuses_a_password_under_twelve_characters(app, client):
    response = client.post(
        "/account/register",
        data=registration(password="elevenchars", password_repeat="elevenchars"),
    )

    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_register_explains_the_minimum_password_length_in_english(client):
    response = client.post(
        "/account/register",
        data=registration(password="short", password_repeat="short"),
        headers=ENGLISH,
    )

    assert "at least 12 characters long" in response.get_data(as_text=True)


def test_register_refuses_a_malformed_email(app, client):
    response = client.post("/account/register", data=registration(email="anna@"))

    assert response.status_code == 422
    assert 'id="email-error"' in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_register_refuses_different_repeated_password(app, client):
    response = client.post("/account/register", data=registration(password_repeat=PASSWORD + "!"))

    assert response.status_code == 422
    assert 'id="password_repeat-error"' in response.get_data(as_text=True)
    assert user_count(app) == 0


def test_register_refused_keeps_the_entries_but_not_the_password(client):
    response = client.post(
        "/account/register", data=registration(email="anna@", password="short secret")
    )

    page = response.get_data(as_text=True)
    assert 'value="Anna Schmidt"' in page
    assert "short secret" not in page


def test_register_stores_an_organisation_account(app, client):
    client.post("/account/register", data=registration(account_type="organisation"))

    [user] = users(app)
    assert user.account_type is AccountType.ORGANISATION


def test_register_refuses_an_unknown_account_type(app, client):
    response = client.post("/account/register", data=registration(account_type="robot"))

    assert response.status_code == 422
    assert user_count(app) == 0


def test_register_normalises_whitespace_in_the_display_name(app, client):
    client.post("/account/register", data=registration(display_name="  Anna   Maria\tSchmidt "))

    [user] = users(app)
    assert user.display_name == "Anna Maria Schmidt"


def test_register_with_csrf_refuses_a_post_without_token(app, csrf_client):
    response = csrf_client.post("/account/register", data=registration())

    assert response.status_code == 400
    assert user_count(app) == 0


def test_register_with_csrf_accepts_the_token_of_the_form(app, csrf_client):
    token = csrf_token_from(csrf_client.get("/account/register").get_data(as_text=True))

    response = csrf_client.post("/account/register", data=registration(csrf_token=token))

    assert response.status_code == 302
    assert user_count(app) == 1


# Logging in


def test_login_with_the_right_credentials_logs_in(client, factory):
    user = factory.user(email="anna@example.org")

    response = client.post("/account/login", data=login_form())

    assert response.status_code == 302
    assert logged_in_user_id(client) == str(user.id)


def test_login_shows_log_out_on_the_next_page(client, factory):
    factory.user(email="anna@example.org")

    response = client.post(
        "/account/login", data=login_form(), headers=ENGLISH, follow_redirects=True
    )

    page = response.get_data(as_text=True)
    assert LOGOUT_FORM in page
    assert "Log out" in page


@pytest.mark.parametrize(
    ("fields", "blocked"),
    [
        pytest.param({"password": "not the password"}, False, id="wrong-password"),
        pytest.param({"email": "nobody@example.org"}, False, id="unknown-email"),
        pytest.param({}, True, id="blocked-user"),
    ],
)
def test_login_is_refused_and_nobody_is_logged_in(client, factory, fields, blocked):
    factory.user(email="anna@example.org", is_blocked=blocked)

    response = client.post("/account/login", data=login_form(**fields))

    assert response.status_code == 422
    assert logged_in_user_id(client) is None


def test_login_refusal_does_not_tell_which_part_was_wrong(client, factory):
    factory.user(email="anna@example.org")

    wrong_password = client.post(
        "/account/login", data=login_form(password="not the password"), headers=ENGLISH
    )
    unknown_email = client.post(
        "/account/login",
        data=login_form(email="nobody@example.org", password="not the password"),
        headers=ENGLISH,
    )

    message = "The e-mail address or the password is not right."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)


def test_a_user_blocked_while_logged_in_is_logged_out(app, client, auth, factory):
    user = factory.user()
    auth.login(user.email)
    with app.app_context():
        db.session.get(User, user.id).is_blocked = True
        db.session.commit()

    assert LOGOUT_FORM not in client.get("/").get_data(as_text=True)


def test_login_ignores_the_case_of_the_email(client, factory):
    user = factory.user(email="anna@example.org")

    client.post("/account/login", data=login_form(email="ANNA@Example.ORG"))

    assert logged_in_user_id(client) == str(user.id)


def test_login_follows_a_local_next_path(client, factory):
    factory.user(email="anna@example.org")

    response = client.post("/account/login?next=/consultations/?page=2", data=login_form())

    assert response.headers["Location"] == "/consultations/?page=2"


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/account/login",
        "/\\evil.example",
        "\\\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
    ],
)
def test_login_ignores_a_next_target_on_another_site(client, factory, target):
    factory.user(email="anna@example.org")

    response = client.post("/account/login", data=login_form(next=target))

    assert response.headers["Location"] == "/"


def test_login_page_redirects_a_logged_in_user(client, auth, factory):
    auth.login(factory.user().email)

    response = client.get("/account/login")

    assert response.status_code == 302


def test_login_with_csrf_refuses_a_post_without_token(csrf_client, factory):
    factory.user(email="anna@example.org")

    response = csrf_client.post("/account/login", data=login_form())

    assert response.status_code == 400
    assert logged_in_user_id(csrf_client) is None


def test_login_with_csrf_accepts_the_token_of_the_form(csrf_client, factory):
    user = factory.user(email="anna@example.org")
    token = csrf_token_from(csrf_client.get("/account/login").get_data(as_text=True))

    response = csrf_client.post("/account/login", data=login_form(csrf_token=token))

    assert response.status_code == 302
    assert logged_in_user_id(csrf_client) == str(user.id)


@pytest.fixture
def rate_limited_app(app: Flask):
    """An app whose login allows three attempts a minute.

    The limiter is one object shared by every app of the test session, so its switch and
    its counters are put back afterwards, leaving the other tests unlimited.
    """
    was_enabled = limiter.enabled
    limited = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        LOGIN_RATE_LIMIT="3 per minute",
    )
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def _wrong_login(client: FlaskClient):
    return client.post(
        "/account/login", data=login_form(password="guessing again"), headers=ENGLISH
    )


def test_login_refuses_the_fourth_attempt_a_minute_with_a_friendly_page(rate_limited_app, factory):
    factory.user(email="anna@example.org")
    client = rate_limited_app.test_client()

    statuses = [_wrong_login(client).status_code for _ in range(3)]
    fourth = _wrong_login(client)

    assert statuses == [422, 422, 422]
    assert fourth.status_code == 429
    page = fourth.get_data(as_text=True)
    assert "Too many attempts" in page
    assert "Traceback" not in page


def test_login_refuses_even_the_right_password_once_the_limit_is_reached(rate_limited_app, factory):
    factory.user(email="anna@example.org")
    client = rate_limited_app.test_client()
    for _ in range(3):
        _wrong_login(client)

    response = client.post("/account/login", data=login_form())

    assert response.status_code == 429
    assert logged_in_user_id(client) is None


def test_login_rate_limit_leaves_the_login_page_readable(rate_limited_app):
    client = rate_limited_app.test_client()
    for _ in range(4):
        _wrong_login(client)

    assert client.get("/account/login").status_code == 200


# Logging out


def test_logout_by_get_is_not_allowed(client, auth, factory):
    auth.login(factory.user().email)

    response = client.get("/account/logout")

    assert response.status_code == 405
    assert logged_in_user_id(client) is not None


def test_logout_ends_the_session(client, auth, factory):
    auth.login(factory.user().email)

    response = auth.logout()

    assert response.status_code == 302
    assert logged_in_user_id(client) is None
    assert LOGOUT_FORM not in client.get("/").get_data(as_text=True)


def test_logout_with_csrf_refuses_a_post_without_token(csrf_client, factory):
    user = factory.user()
    login_with_csrf(csrf_client, user.email)

    response = csrf_client.post("/account/logout")

    assert response.status_code == 400
    assert logged_in_user_id(csrf_client) == str(user.id)


def test_logout_with_csrf_accepts_the_token_of_the_page(csrf_client, factory):
    user = factory.user()
    login_with_csrf(csrf_client, user.email)
    token = csrf_token_from(csrf_client.get("/").get_data(as_text=True))

    response = csrf_client.post("/account/logout", data={"csrf_token": token})

    assert response.status_code == 302
    assert logged_in_user_id(csrf_client) is None


# Sessions end on the server


def shows_logout(client: FlaskClient) -> bool:
    """Whether the client's cookies open a logged-in page (the header's log-out form)."""
    return LOGOUT_FORM in client.get("/").get_data(as_text=True)


def copy_of_the_cookies(client: FlaskClient, *names: str) -> FlaskClient:
    """Another browser with the same cookies (all of them, or those named), as a thief has."""
    copy = client.application.test_client()
    for name in names or ("session", "remember_token"):
        cookie = client.get_cookie(name)
        if cookie is not None:
            copy.set_cookie(name, cookie.value)
    return copy


def log_in_remembered(client: FlaskClient, email: str = "anna@example.org"):
    return client.post("/account/login", data=login_form(email=email, remember="y"))


def test_a_copied_session_cookie_works_while_the_session_lasts(client, auth, factory):
    auth.login(factory.user().email)

    assert shows_logout(copy_of_the_cookies(client))


def test_a_copied_session_cookie_stops_working_at_logout(client, auth, factory):
    auth.login(factory.user().email)
    copy = copy_of_the_cookies(client)

    auth.logout()

    assert not shows_logout(copy)


def test_a_copied_stay_logged_in_cookie_works_while_the_session_lasts(client, factory):
    factory.user(email="anna@example.org")
    log_in_remembered(client)

    assert shows_logout(copy_of_the_cookies(client, "remember_token"))


def test_a_copied_stay_logged_in_cookie_stops_working_at_logout(client, factory):
    factory.user(email="anna@example.org")
    log_in_remembered(client)
    used_before = copy_of_the_cookies(client, "remember_token")
    shows_logout(used_before)
    unused_before = copy_of_the_cookies(client, "remember_token")

    client.post("/account/logout")

    assert not shows_logout(used_before)
    assert not shows_logout(unused_before)


def test_logging_out_on_one_device_keeps_the_other_logged_in(app, client, auth, factory):
    user = factory.user(email="anna@example.org")
    other_device = app.test_client()
    other_device.post("/account/login", data=login_form())
    auth.login(user.email)

    auth.logout()

    assert shows_logout(other_device)
    assert not shows_logout(client)


def _set_cookie_headers(response, name: str) -> list[str]:
    return [
        header for header in response.headers.getlist("Set-Cookie") if header.startswith(f"{name}=")
    ]


def test_the_stay_logged_in_cookie_is_samesite_lax_and_httponly(client, factory):
    factory.user(email="anna@example.org")

    [cookie] = _set_cookie_headers(log_in_remembered(client), "remember_token")

    assert "SameSite=Lax" in cookie
    assert "HttpOnly" in cookie
    assert "Secure" not in cookie  # development and tests run on plain http://localhost


def test_in_production_the_stay_logged_in_cookie_is_secure_like_the_session_cookie(
    app, factory, monkeypatch
):
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "0123456789abcdef" * 4)
    production = create_app(
        {
            "SECRET_KEY": "0123456789abcdef" * 4,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "PUBLIC_URL": "https://town.example",
            "SERVER_NAME": "localhost",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "TESTING": True,
        }
    )
    factory.user(email="anna@example.org")

    response = log_in_remembered(production.test_client())

    [remember] = _set_cookie_headers(response, "remember_token")
    [session] = _set_cookie_headers(response, "session")
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in remember.split(";")}
    assert {"Secure", "HttpOnly", "SameSite=Lax"} <= {part.strip() for part in session.split(";")}


def test_log_lines_name_accounts_by_id_only(client, factory, caplog):
    """No address, password or token in a log line: logs travel further than the database."""
    factory.user(email="anna@example.org")
    caplog.set_level(logging.INFO, logger="participation")

    client.post("/account/register", data=registration(email="anna@example.org"))
    client.post("/account/register", data=registration(email="bruno@example.org"))
    log_in_remembered(client)
    token = client.get_cookie("remember_token").value.partition(":")[2].partition("|")[0]
    client.post("/account/logout")

    assert caplog.records, "the account services log what they do"
    for secret in ("anna@", "bruno@", PASSWORD, Factory.PASSWORD, token):
        assert secret not in caplog.text
