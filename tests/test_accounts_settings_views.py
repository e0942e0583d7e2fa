"""One's own account through real requests: settings, password, e-mail address, downloading
one's data and deleting the account; and an administrator deleting an account on request."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient

from participation.extensions import db, limiter
from participation.models import AuditEvent, Phase, User
from participation.services.accounts import personal_data
from participation.services.accounts.settings import CHANGE_EMAIL
from participation.services.exports import ExportKind
from tests.conftest import csrf_token_from, make_app
from tests.factories import Factory
from tests.mailbox import link_in, mails_to, path_of

ENGLISH = {"Accept-Language": "en"}
PASSWORD = Factory.PASSWORD
NEW_PASSWORD = "a brand new passphrase"


def stored(app: Flask, user: User) -> User:
    with app.app_context():
        row = db.session.get(User, user.id)
        db.session.expunge(row)
        return row


def logged_in(client: FlaskClient) -> bool:
    """Whether the client's cookies still open a page that needs a login."""
    return client.get("/account/settings").status_code == 200


@pytest.fixture
def anna(factory) -> User:
    return factory.user(email="anna@example.org", display_name="Anna Schmidt")


@pytest.fixture
def anna_client(app, anna, auth, client) -> FlaskClient:
    assert auth.login(anna.email).status_code == 302
    return client


def second_device(app: Flask, email: str) -> FlaskClient:
    other = app.test_client()
    response = other.post("/account/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302
    return other


# Who may enter


@pytest.mark.parametrize(
    "path",
    [
        "/account/settings",
        "/account/settings/password",
        "/account/settings/email",
        "/account/data",
        "/account/data/download",
        "/account/delete",
    ],
)
def test_account_pages_send_visitors_to_the_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_the_menu_links_to_the_account(anna_client):
    page = anna_client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert 'href="/account/settings"' in page


# Name and language


def test_settings_save_name_and_language(app, anna_client, anna):
    response = anna_client.post(
        "/account/settings", data={"display_name": "Anna S.", "locale": "en"}
    )
    assert response.headers["Location"] == "/account/settings"
    assert (stored(app, anna).display_name, stored(app, anna).locale) == ("Anna S.", "en")
    page = anna_client.get("/account/settings").get_data(as_text=True)
    assert "Your settings are saved." in page and 'lang="en"' in page


def test_the_chosen_language_wins_over_the_browser(anna_client):
    anna_client.post("/account/settings", data={"display_name": "Anna", "locale": "de"})
    page = anna_client.get("/account/settings", headers=ENGLISH).get_data(as_text=True)
    assert '<html lang="de">' in page


def test_an_empty_name_is_refused_with_422_and_a_message(app, anna_client, anna):
    response = anna_client.post(
        "/account/settings", data={"display_name": "  ", "locale": "en"}, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "Please enter a display name." in response.get_data(as_text=True)
    assert stored(app, anna).display_name == "Anna Schmidt"


def test_an_unknown_language_is_refused_with_422(anna_client):
    response = anna_client.post(
        "/account/settings", data={"display_name": "Anna", "locale": "fr"}, headers=ENGLISH
    )
    assert response.status_code == 422


def test_settings_refusals_are_in_german_for_german_readers(anna_client):
    response = anna_client.post(
        "/account/settings",
        data={"display_name": "", "locale": "de"},
        headers={"Accept-Language": "de"},
    )
    assert "Bitte geben Sie einen Anzeigenamen ein." in response.get_data(as_text=True)


# Password


def change_password(client: FlaskClient, current: str = PASSWORD, new: str = NEW_PASSWORD):
    return client.post(
        "/account/settings/password",
        data={"current_password": current, "password": new, "password_repeat": new},
        headers=ENGLISH,
    )


def test_a_new_password_with_the_current_one(app, anna_client, auth, anna):
    response = change_password(anna_client)
    assert response.headers["Location"] == "/account/settings"
    assert logged_in(anna_client)  # this session goes on
    auth.logout()
    assert auth.login(anna.email, PASSWORD).status_code == 422
    assert auth.login(anna.email, NEW_PASSWORD).status_code == 302


def test_a_new_password_logs_out_the_other_devices(app, anna_client, anna):
    other = second_device(app, anna.email)
    change_password(anna_client)
    assert not logged_in(other)


def test_a_wrong_current_password_is_refused_with_422(anna_client):
    response = change_password(anna_client, current="a wrong passphrase")
    assert response.status_code == 422
    assert "The current password is not right." in response.get_data(as_text=True)


def test_different_repeated_passwords_are_refused(anna_client):
    response = anna_client.post(
        "/account/settings/password",
        data={
            "current_password": PASSWORD,
            "password": NEW_PASSWORD,
            "password_repeat": "something else entirely",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "The two passwords are not the same." in response.get_data(as_text=True)


@pytest.fixture
def rate_limited_app(app: Flask):
    """Three password checks a minute; the limiter is shared, so it is put back afterwards."""
    was_enabled = limiter.enabled
    limited = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3/minute"
    )
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def test_guessing_the_current_password_is_rate_limited(rate_limited_app, anna):
    client = rate_limited_app.test_client()
    client.post("/account/login", data={"email": anna.email, "password": PASSWORD})
    statuses = [change_password(client, current="guess").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]


# E-mail address


def test_a_new_address_through_the_link_in_the_mail(app, anna_client, anna):
    response = anna_client.post(
        "/account/settings/email",
        data={"email": "anna.new@example.org", "current_password": PASSWORD},
        headers=ENGLISH,
    )
    assert response.headers["Location"] == "/account/settings/email"
    assert stored(app, anna).email == "anna@example.org"
    [sent] = mails_to(app, "anna.new@example.org", CHANGE_EMAIL)
    confirmed = anna_client.get(path_of(link_in(sent.text_body)))
    assert confirmed.status_code == 302
    assert stored(app, anna).email == "anna.new@example.org"


def test_the_link_works_without_a_login(app, anna_client, anna):
    anna_client.post(
        "/account/settings/email",
        data={"email": "anna.new@example.org", "current_password": PASSWORD},
    )
    [sent] = mails_to(app, "anna.new@example.org", CHANGE_EMAIL)
    response = app.test_client().get(path_of(link_in(sent.text_body)))
    assert response.headers["Location"] == "/account/login"
    assert stored(app, anna).email == "anna.new@example.org"


def test_a_new_address_needs_the_current_password(app, anna_client, anna):
    response = anna_client.post(
        "/account/settings/email",
        data={"email": "anna.new@example.org", "current_password": "a wrong passphrase"},
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "The current password is not right." in response.get_data(as_text=True)
    assert mails_to(app, "anna.new@example.org") == []


def test_the_pending_address_is_shown_and_can_be_cancelled(app, anna_client, anna):
    anna_client.post(
        "/account/settings/email",
        data={"email": "anna.new@example.org", "current_password": PASSWORD},
    )
    page = anna_client.get("/account/settings/email", headers=ENGLISH).get_data(as_text=True)
    assert "anna.new@example.org" in page
    anna_client.post("/account/settings/email/cancel")
    assert stored(app, anna).pending_email is None


def test_a_broken_change_link_is_a_page_with_400(client):
    response = client.get("/account/email/confirm/not-a-token", headers=ENGLISH)
    assert response.status_code == 400
    assert "This link is not valid" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# Own data


def test_the_data_page_offers_the_download(anna_client):
    page = anna_client.get("/account/data", headers=ENGLISH).get_data(as_text=True)
    assert 'href="/account/data/download"' in page


def test_the_download_is_a_json_file_of_ones_own_data(anna_client, anna, factory):
    proposal = factory.proposal(factory.consultation(), anna, title="A bench")
    factory.comment(proposal, factory.user(display_name="Bruno Weber"), body="Bruno's view")
    response = anna_client.get("/account/data/download")
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.get_data())
    assert data["account"]["email"] == "anna@example.org"
    assert [p["title"] for p in data["proposals"]] == ["A bench"]
    assert "Bruno" not in response.get_data(as_text=True)


# Deleting the account


def delete_account(client: FlaskClient, password: str = PASSWORD):
    return client.post("/account/delete", data={"password": password}, headers=ENGLISH)


def test_the_delete_page_says_what_happens(anna_client):
    page = anna_client.get("/account/delete", headers=ENGLISH).get_data(as_text=True)
    assert "This cannot be undone." in page
    assert "deleted participant" in page
    assert 'type="password"' in page


def test_deleting_the_account_logs_out_and_erases_it(app, anna_client, anna):
    response = delete_account(anna_client)
    assert response.headers["Location"] == "/"
    assert not logged_in(anna_client)
    row = stored(app, anna)
    assert row.is_deleted and row.email != "anna@example.org"


def test_a_deleted_account_cannot_log_in(app, anna_client, auth, anna):
    delete_account(anna_client)
    assert auth.login(anna.email, PASSWORD).status_code == 422


def test_deleting_the_account_logs_out_the_other_devices(app, anna_client, anna):
    other = second_device(app, anna.email)
    delete_account(anna_client)
    assert not logged_in(other)


def test_the_stay_logged_in_cookie_of_a_deleted_account_opens_nothing(app, anna):
    remembered = app.test_client()
    remembered.post(
        "/account/login", data={"email": anna.email, "password": PASSWORD, "remember": "y"}
    )
    cookie = remembered.get_cookie("remember_token")
    assert cookie is not None
    with app.app_context():
        personal_data.delete_own_account(db.session.get(User, anna.id), PASSWORD)
    fresh = app.test_client()  # no session, only the remember cookie
    fresh.set_cookie("remember_token", cookie.value)
    assert not logged_in(fresh)


def test_a_wrong_password_keeps_the_account_with_422(app, anna_client, anna):
    response = delete_account(anna_client, "a wrong passphrase")
    assert response.status_code == 422
    assert "The password is not right." in response.get_data(as_text=True)
    assert not stored(app, anna).is_deleted
    assert logged_in(anna_client)


def test_deleting_needs_the_forms_token(csrf_client, anna):
    token = csrf_token_from(csrf_client.get("/account/login").get_data(as_text=True))
    csrf_client.post(
        "/account/login", data={"email": anna.email, "password": PASSWORD, "csrf_token": token}
    )
    response = csrf_client.post("/account/delete", data={"password": PASSWORD})
    assert response.status_code == 400


def test_the_only_administrator_is_told_why_not(app, client, auth, factory):
    admin = factory.admin()
    auth.login(admin.email)
    response = delete_account(client)
    assert response.status_code == 422
    assert "only administrator account" in response.get_data(as_text=True)
    assert not stored(app, admin).is_deleted


def test_a_deleted_authors_proposal_is_by_a_deleted_participant_in_the_csv(
    app, anna_client, anna, factory
):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    factory.proposal(consultation, anna, title="A bench")
    delete_account(anna_client)
    moderator = app.test_client()
    moderator.post(
        "/account/login", data={"email": factory.moderator().email, "password": PASSWORD}
    )
    csv = moderator.get(
        f"/consultations/{consultation.slug}/export/{ExportKind.PROPOSALS.value}.csv"
    ).get_data(as_text=True)
    assert "A bench" in csv and "deleted participant" in csv


# An administrator deletes an account on request


def test_the_users_page_links_to_the_deletion(client, auth, factory, anna):
    auth.login(factory.admin().email)
    page = client.get("/moderation/users").get_data(as_text=True)
    assert f'href="/moderation/users/{anna.id}/delete"' in page


def test_admin_deletes_an_account_on_request(app, client, auth, factory, anna):
    auth.login(factory.admin().email)
    assert client.get(f"/moderation/users/{anna.id}/delete").status_code == 200
    response = client.post(
        f"/moderation/users/{anna.id}/delete", data={"reason": "Letter of 3 March"}
    )
    assert response.headers["Location"] == "/moderation/users"
    assert stored(app, anna).is_deleted
    with app.app_context():
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "user.deleted"))
        assert event.details == {"by": "admin", "reason": "Letter of 3 March"}


def test_admin_deletion_logs_the_person_out(app, anna_client, factory, anna):
    admin = second_device(app, factory.admin().email)
    admin.post(f"/moderation/users/{anna.id}/delete", data={"reason": "Letter of 3 March"})
    assert not logged_in(anna_client)


def test_admin_deletion_without_a_reason_is_refused_with_422(app, client, auth, factory, anna):
    auth.login(factory.admin().email)
    response = client.post(
        f"/moderation/users/{anna.id}/delete", data={"reason": ""}, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "Please give the reason for the deletion." in response.get_data(as_text=True)
    assert not stored(app, anna).is_deleted


def test_moderators_cannot_delete_accounts(app, client, auth, factory, anna):
    auth.login(factory.moderator().email)
    response = client.post(f"/moderation/users/{anna.id}/delete", data={"reason": "Because"})
    assert response.status_code == 403
    assert not stored(app, anna).is_deleted


def test_the_users_page_shows_a_deleted_account_as_deleted(app, client, auth, factory, anna):
    with app.app_context():
        personal_data.delete_own_account(db.session.get(User, anna.id), PASSWORD)
    auth.login(factory.admin().email)
    page = client.get("/moderation/users", headers=ENGLISH).get_data(as_text=True)
    assert "Deleted" in page and "deleted participant" in page
    assert f"/moderation/users/{anna.id}/delete" not in page


# Logging out everywhere


def test_the_devices_page_explains_log_out_everywhere(anna_client):
    page = anna_client.get("/account/settings/sessions", headers=ENGLISH).get_data(as_text=True)

    assert 'action="/account/settings/sessions/end"' in page
    assert "Log out everywhere" in page


def test_the_devices_page_counts_the_logins(app, anna_client, anna):
    second_device(app, anna.email)

    page = anna_client.get("/account/settings/sessions", headers=ENGLISH).get_data(as_text=True)

    assert "You are logged in on 2 devices or browsers, this one included." in page


def test_log_out_everywhere_ends_the_session_of_another_device(app, anna_client, anna):
    other = second_device(app, anna.email)

    anna_client.post("/account/settings/sessions/end")

    assert not logged_in(other)


def test_log_out_everywhere_ends_this_session_too(anna_client):
    response = anna_client.post("/account/settings/sessions/end", headers=ENGLISH)

    assert response.headers["Location"] == "/account/login"
    assert not logged_in(anna_client)


def test_log_out_everywhere_says_what_happened(anna_client):
    response = anna_client.post(
        "/account/settings/sessions/end", headers=ENGLISH, follow_redirects=True
    )

    assert "You are logged out on every device." in response.get_data(as_text=True)


def test_log_out_everywhere_ends_a_stay_logged_in_cookie_of_another_device(app, anna_client, anna):
    remembered = app.test_client()
    remembered.post(
        "/account/login", data={"email": anna.email, "password": PASSWORD, "remember": "y"}
    )
    cookie = remembered.get_cookie("remember_token")

    anna_client.post("/account/settings/sessions/end")

    fresh = app.test_client()  # only the remember cookie, as after closing the browser
    fresh.set_cookie("remember_token", cookie.value)
    assert not logged_in(fresh)


def test_log_out_everywhere_needs_the_forms_token(csrf_client, anna):
    token = csrf_token_from(csrf_client.get("/account/login").get_data(as_text=True))
    csrf_client.post(
        "/account/login", data={"email": anna.email, "password": PASSWORD, "csrf_token": token}
    )

    response = csrf_client.post("/account/settings/sessions/end")

    assert response.status_code == 400
    assert logged_in(csrf_client)


def test_a_new_password_keeps_this_device_with_a_new_stay_logged_in_cookie(app, anna):
    client = app.test_client()
    client.post("/account/login", data={"email": anna.email, "password": PASSWORD, "remember": "y"})
    old_cookie = client.get_cookie("remember_token").value

    change_password(client)

    assert logged_in(client)
    assert client.get_cookie("remember_token").value != old_cookie
    fresh = app.test_client()
    fresh.set_cookie("remember_token", old_cookie)
    assert not logged_in(fresh)
