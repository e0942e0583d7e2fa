"""Confirming the address and resetting a forgotten password through real requests: the links
from the outbox, the pages, the notice with the button for a new link, and the rate limits."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from participation.extensions import db, limiter
from participation.models import OutboxMail, Phase, Support, User, VotingMethod
from participation.services import accounts, mail
from tests.conftest import make_app
from tests.factories import Factory
from tests.helpers import without_csrf_tokens
from tests.mailbox import confirmation_link, mails_to, path_of, reset_link

ENGLISH = {"Accept-Language": "en"}
JSON = {"Accept": "application/json"} | ENGLISH
PASSWORD = "a long enough passphrase"
NEW_PASSWORD = "a brand new passphrase"


def _registration(email: str) -> dict[str, str]:
    return {
        "email": email,
        "display_name": "New Person",
        "account_type": "person",
        "password": PASSWORD,
        "password_repeat": PASSWORD,
    }


def _register(client: FlaskClient, email: str = "new.person@example.org"):
    return client.post(
        "/account/register", data=_registration(email), headers=ENGLISH, follow_redirects=True
    )


def _register_and_log_in(client: FlaskClient, email: str = "new.person@example.org"):
    """Register, then log in with the password before confirming, as one may."""
    _register(client, email)
    return client.post(
        "/account/login",
        data={"email": email, "password": PASSWORD},
        headers=ENGLISH,
        follow_redirects=True,
    )


def _user(app: Flask, email: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        db.session.expunge_all()
        return user


def _supports(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(Support)).all())


@pytest.fixture
def voting_proposal(factory: Factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    return factory.proposal(consultation, factory.user())


# Registering and confirming


def test_registering_says_a_link_was_sent(client):
    page = _register(client).get_data(as_text=True)

    assert "We have sent a link to new.person@example.org" in page


def test_a_new_account_logged_in_sees_the_notice_with_a_button_for_a_new_link(client):
    page = _register_and_log_in(client).get_data(as_text=True)

    assert "Please confirm your e-mail address" in page
    assert 'action="/account/confirm/resend"' in page
    assert "Send the link again" in page


def test_the_link_from_the_mail_confirms_the_address(app, client):
    _register(client)

    response = client.get(path_of(confirmation_link(app, "new.person@example.org")))

    assert response.status_code == 302
    assert _user(app, "new.person@example.org").is_confirmed


def test_after_confirming_the_notice_is_gone(app, client):
    _register_and_log_in(client)
    # The message is written in the language of the request that confirms.
    client.get(path_of(confirmation_link(app, "new.person@example.org")), headers=ENGLISH)

    page = client.get("/", headers=ENGLISH).get_data(as_text=True)

    assert "Thank you! Your e-mail address is confirmed." in page
    assert "Send the link again" not in page


def test_confirming_as_a_visitor_leads_to_the_login_with_the_address_filled_in(app, client):
    _register(client)

    response = client.get(
        path_of(confirmation_link(app, "new.person@example.org")),
        headers=ENGLISH,
        follow_redirects=True,
    )

    page = response.get_data(as_text=True)
    assert "You can log in now." in page
    assert 'value="new.person@example.org"' in page


def test_the_address_is_filled_in_once_only(app, client):
    """On a shared computer the next person should not find it in the form."""
    _register(client)
    client.get(path_of(confirmation_link(app, "new.person@example.org")), follow_redirects=True)

    page = client.get("/account/login").get_data(as_text=True)

    assert "new.person@example.org" not in page


def test_after_confirming_and_logging_in_the_page_one_registered_from_opens(app, client):
    client.post(
        "/account/register?next=/consultations/",
        data={
            "email": "new.person@example.org",
            "display_name": "New Person",
            "account_type": "person",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
        },
    )
    login_page = client.get(path_of(confirmation_link(app, "new.person@example.org")))

    response = client.post(
        login_page.headers["Location"],
        data={"email": "new.person@example.org", "password": PASSWORD},
    )

    assert response.headers["Location"] == "/consultations/"
    assert _user(app, "new.person@example.org").is_confirmed


def test_the_link_works_on_another_device_without_logging_in(app, client):
    _register(client)
    other_device = app.test_client()

    response = other_device.get(
        path_of(confirmation_link(app, "new.person@example.org")),
        headers=ENGLISH,
        follow_redirects=True,
    )

    assert "You can log in now." in response.get_data(as_text=True)
    assert _user(app, "new.person@example.org").is_confirmed


def test_a_broken_confirmation_link_gets_a_page_that_explains_with_400(client):
    _register(client)

    response = client.get("/account/confirm/not-a-token", headers=ENGLISH)

    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "This link does not work" in page
    assert "Traceback" not in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_button_sends_a_new_link(app, client, monkeypatch):
    _register_and_log_in(client)
    monkeypatch.setattr(mail, "minute_key", lambda prefix: f"{prefix}:a-minute-later")

    response = client.post(
        "/account/confirm/resend", data={"next": "/consultations"}, headers=ENGLISH
    )

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/consultations")
    assert len(mails_to(app, "new.person@example.org", mail.CONFIRM_EMAIL)) == 2


def test_a_new_link_needs_a_login(client):
    response = client.post("/account/confirm/resend")

    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_a_new_link_is_asked_for_with_the_forms_csrf_token(csrf_client):
    _register(csrf_client)

    response = csrf_client.post("/account/confirm/resend", headers=ENGLISH)

    assert response.status_code == 400


# What an unconfirmed citizen sees and may do


def test_an_unconfirmed_citizen_sees_why_there_is_no_support_button(client, voting_proposal):
    _register_and_log_in(client)

    page = client.get(f"/proposals/{voting_proposal.id}", headers=ENGLISH).get_data(as_text=True)

    assert "Confirm your e-mail address to support proposals." in page
    assert f'action="/proposals/{voting_proposal.id}/support"' not in page


def test_an_unconfirmed_citizens_support_is_refused_with_403_and_the_button(
    app, client, voting_proposal
):
    _register_and_log_in(client)

    response = client.post(f"/proposals/{voting_proposal.id}/support", headers=ENGLISH)

    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Please confirm your e-mail address first" in page
    assert 'action="/account/confirm/resend"' in page
    assert _supports(app) == 0


def test_an_unconfirmed_citizens_support_by_script_gets_403_json(app, client, voting_proposal):
    _register_and_log_in(client)

    response = client.post(f"/proposals/{voting_proposal.id}/support", headers=JSON)

    assert response.status_code == 403
    assert "confirm your e-mail address" in response.get_json()["message"]
    assert _supports(app) == 0


def test_after_confirming_the_citizen_supports(app, client, voting_proposal):
    _register_and_log_in(client)
    client.get(path_of(confirmation_link(app, "new.person@example.org")))

    response = client.post(f"/proposals/{voting_proposal.id}/support", headers=ENGLISH)

    assert response.status_code == 302
    assert _supports(app) == 1


def test_an_unconfirmed_citizen_sees_why_there_is_no_ballot(app, client, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)
    _register_and_log_in(client)

    page = client.get(f"/consultations/{consultation.slug}/ballot", headers=ENGLISH)
    refused = client.post(
        f"/consultations/{consultation.slug}/ballot",
        data={"projects": [project.id], "action": "submit"},
        headers=ENGLISH,
    )

    assert "Confirm your e-mail address to fill in your ballot." in page.get_data(as_text=True)
    assert refused.status_code == 403


def test_an_unconfirmed_citizen_sees_why_there_is_no_comment_form(client, factory):
    proposal = factory.proposal(factory.consultation(), factory.user())
    _register_and_log_in(client)

    page = client.get(f"/proposals/{proposal.id}", headers=ENGLISH).get_data(as_text=True)

    assert "Confirm your e-mail address to comment." in page
    assert f'action="/proposals/{proposal.id}/comments"' not in page


def test_an_unconfirmed_citizen_cannot_submit_a_proposal(app, client, factory):
    consultation = factory.consultation()
    _register_and_log_in(client)

    response = client.post(
        f"/consultations/{consultation.slug}/proposals/new",
        data={"title": "A bench by the river", "body": "To sit and look at the water."},
        headers=ENGLISH,
    )

    assert response.status_code == 422
    assert "Please confirm your e-mail address first" in response.get_data(as_text=True)


def test_a_confirmed_citizen_sees_no_notice(client, auth, factory):
    auth.login(factory.user().email)

    page = client.get("/", headers=ENGLISH).get_data(as_text=True)

    assert "Send the link again" not in page


# Forgotten passwords


def _forgot(client: FlaskClient, email: str, **environ):
    return client.post(
        "/account/password/forgot",
        data={"email": email},
        headers=ENGLISH,
        environ_base=environ,
    )


def test_the_login_page_links_to_forgot_password(client):
    page = client.get("/account/login", headers=ENGLISH).get_data(as_text=True)

    assert 'href="/account/password/forgot"' in page


def test_the_answer_is_the_same_whether_the_address_has_an_account_or_not(client, factory):
    factory.user(email="anna@example.org")

    known = _forgot(client, "anna@example.org")
    unknown = _forgot(client, "nobody@example.org")

    assert known.status_code == unknown.status_code == 200
    assert without_csrf_tokens(known.get_data(as_text=True)) == without_csrf_tokens(
        unknown.get_data(as_text=True)
    )
    assert "If an account uses this address, we have sent a link to it." in known.get_data(
        as_text=True
    )


def test_a_reset_link_is_mailed_only_to_an_existing_account(app, client, factory):
    factory.user(email="anna@example.org")

    _forgot(client, "anna@example.org")
    _forgot(client, "nobody@example.org")

    with app.app_context():
        recipients = db.session.scalars(select(OutboxMail.recipient)).all()
    assert recipients == ["anna@example.org"]


def test_an_empty_address_is_asked_for_again_with_422(client):
    response = _forgot(client, "")

    assert response.status_code == 422
    assert "Please enter your e-mail address." in response.get_data(as_text=True)


def test_the_reset_link_shows_a_form_for_the_new_password(app, client, factory):
    factory.user(email="anna@example.org")
    _forgot(client, "anna@example.org")

    response = client.get(path_of(reset_link(app, "anna@example.org")), headers=ENGLISH)

    assert response.status_code == 200
    assert "Choose a new password" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def _reset(client: FlaskClient, link: str, password: str = NEW_PASSWORD):
    return client.post(
        path_of(link),
        data={"password": password, "password_repeat": password},
        headers=ENGLISH,
    )


def test_the_new_password_logs_in_and_the_old_one_no_longer(app, client, auth, factory):
    factory.user(email="anna@example.org")
    _forgot(client, "anna@example.org")

    response = _reset(client, reset_link(app, "anna@example.org"))

    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    assert auth.login("anna@example.org", Factory.PASSWORD).status_code == 422
    assert auth.login("anna@example.org", NEW_PASSWORD).status_code == 302


def test_the_reset_link_works_once(app, client, factory):
    factory.user(email="anna@example.org")
    _forgot(client, "anna@example.org")
    link = reset_link(app, "anna@example.org")
    _reset(client, link)

    again = client.get(path_of(link), headers=ENGLISH)
    reused = _reset(client, link, "a third new passphrase")

    assert again.status_code == reused.status_code == 400
    assert "it was already used" in reused.get_data(as_text=True)


def test_a_short_new_password_is_refused_with_422_and_the_form(app, client, factory):
    factory.user(email="anna@example.org")
    _forgot(client, "anna@example.org")

    response = _reset(client, reset_link(app, "anna@example.org"), "short")

    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_resetting_through_the_link_confirms_the_address(app, client, factory):
    factory.user(email="anna@example.org", email_confirmed_at=None)
    _forgot(client, "anna@example.org")

    _reset(client, reset_link(app, "anna@example.org"))

    assert _user(app, "anna@example.org").is_confirmed


# Rate limits


@pytest.fixture
def limited_app(app: Flask):
    """Two mails an hour (per IP and per address); the limiter is shared by every app of the
    test session, so its switch and counters are put back afterwards."""
    was_enabled = limiter.enabled
    limited = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        ACCOUNT_MAIL_RATE_LIMIT="2 per hour",
    )
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def test_a_third_reset_request_an_hour_from_one_host_is_refused(limited_app):
    client = limited_app.test_client()
    statuses = [_forgot(client, f"person{number}@example.org").status_code for number in range(3)]

    assert statuses == [200, 200, 429]


def test_a_third_reset_request_an_hour_for_one_address_is_refused_from_any_host(limited_app):
    client = limited_app.test_client()
    statuses = [
        _forgot(client, "Anna@example.org", REMOTE_ADDR=f"192.0.2.{number}").status_code
        for number in range(1, 4)
    ]

    assert statuses == [200, 200, 429]


def _register_from(client: FlaskClient, email: str, **environ):
    return client.post(
        "/account/register", data=_registration(email), headers=ENGLISH, environ_base=environ
    )


def test_a_third_registration_an_hour_from_one_host_is_refused(limited_app):
    client = limited_app.test_client()
    statuses = [
        _register_from(client, f"person{number}@example.org").status_code for number in range(3)
    ]

    assert statuses == [302, 302, 429]


def test_a_third_registration_an_hour_for_one_address_is_refused_from_any_host(
    limited_app, factory
):
    factory.user(email="anna@example.org")
    client = limited_app.test_client()
    statuses = [
        _register_from(client, "Anna@example.org", REMOTE_ADDR=f"192.0.2.{number}").status_code
        for number in range(1, 4)
    ]

    assert statuses == [302, 302, 429]
    assert len(mails_to(limited_app, "anna@example.org")) <= 2


def test_a_refused_registration_form_does_not_use_up_the_limit(limited_app):
    """Mistyping the repeated password twice must not lock a person out for an hour."""
    client = limited_app.test_client()
    for _ in range(3):
        mistyped = client.post(
            "/account/register",
            data={"email": "new.person@example.org", "password": PASSWORD},
            headers=ENGLISH,
        )
        assert mistyped.status_code == 422

    assert _register_from(client, "new.person@example.org").status_code == 302


def test_the_registration_limit_is_a_friendly_page_in_the_readers_language(limited_app):
    client = limited_app.test_client()
    for number in range(2):
        _register_from(client, f"person{number}@example.org")

    response = _register_from(client, "person2@example.org")

    assert response.status_code == 429
    assert "Too many attempts" in response.get_data(as_text=True)


def test_a_third_new_confirmation_link_an_hour_is_refused(limited_app):
    client = limited_app.test_client()
    _register_and_log_in(client)
    statuses = [client.post("/account/confirm/resend").status_code for _ in range(3)]

    assert statuses == [302, 302, 429]


# The accounts that exist without registering on the site


def test_flask_users_create_makes_a_confirmed_account(app, monkeypatch):
    monkeypatch.setenv("PARTICIPATION_PASSWORD", PASSWORD)

    result = app.test_cli_runner().invoke(
        args=["users", "create", "--email", "clerk@town.example", "--role", "moderator"]
    )

    assert result.exit_code == 0, result.output
    assert _user(app, "clerk@town.example").is_confirmed
    assert mails_to(app, "clerk@town.example") == []


def test_the_demo_accounts_are_confirmed(app):
    from participation.services import seeding
    from tests.test_seeding import DEMO  # the project's seeds/demo.yaml

    with app.app_context():
        seeding.load_file(DEMO)
        unconfirmed = db.session.scalars(
            select(User.email).where(User.email_confirmed_at.is_(None))
        ).all()
    assert unconfirmed == []


def test_a_token_made_for_one_account_is_refused_once_the_account_is_gone(app, factory):
    user = factory.user()
    with app.app_context():
        token = accounts.confirmation_token(db.session.get(User, user.id))
        db.session.delete(db.session.get(User, user.id))
        db.session.commit()

    response = app.test_client().get(f"/account/confirm/{token}", headers=ENGLISH)

    assert response.status_code == 400
