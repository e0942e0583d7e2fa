"""A person's own settings: display name and language, a new password and a new e-mail address
(both only with the current password). What a new password does to the logins of the account
is in test_accounts_login_sessions.py."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner

from participation.extensions import db
from participation.models import AuditEvent, OutboxMail, User
from participation.services import accounts
from participation.services.accounts.settings import ProfileSettings
from participation.services.errors import DomainError, InvalidLink, ValidationFailed
from tests.factories import Factory
from tests.helpers import attached

PASSWORD = Factory.PASSWORD
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def anna(factory, ctx) -> User:
    return attached(User, factory.user(email="anna@example.org", display_name="Anna"))


def refused_fields(action) -> set[str]:
    with pytest.raises(ValidationFailed) as refused:
        action()
    db.session.rollback()
    return set(refused.value.errors)


def mails() -> list[OutboxMail]:
    return list(db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id)))


def link_in(text: str) -> str:
    return re.search(r"http://localhost/account/email/confirm/(\S+)", text).group(1)


# Display name and language


def test_profile_settings_change_name_and_language(anna):
    accounts.settings.update_profile(anna, ProfileSettings("  Anna   Schmidt ", "en"))
    db.session.expire_all()
    stored = db.session.get(User, anna.id)
    assert (stored.display_name, stored.locale) == ("Anna Schmidt", "en")


@pytest.mark.parametrize(
    ("name", "locale", "fields"),
    [
        ("   ", "de", {"display_name"}),
        ("x" * 81, "de", {"display_name"}),
        ("Anna", "fr", {"locale"}),
        ("", "xx", {"display_name", "locale"}),
    ],
)
def test_profile_settings_refuse_bad_input_and_store_nothing(anna, name, locale, fields):
    assert (
        refused_fields(
            lambda: accounts.settings.update_profile(anna, ProfileSettings(name, locale))
        )
        == fields
    )
    db.session.expire_all()
    assert (db.session.get(User, anna.id).display_name, anna.locale) == ("Anna", None)


# Password


def test_a_new_password_replaces_the_old_one(anna):
    accounts.settings.change_password(anna, PASSWORD, NEW_PASSWORD)
    assert accounts.authenticate("anna@example.org", PASSWORD) is None
    assert accounts.authenticate("anna@example.org", NEW_PASSWORD) is not None


def test_a_new_password_needs_the_current_one(anna):
    assert refused_fields(
        lambda: accounts.settings.change_password(anna, "a wrong passphrase", NEW_PASSWORD)
    ) == {"current_password"}
    assert accounts.authenticate("anna@example.org", PASSWORD) is not None


def test_a_too_short_new_password_is_refused(anna):
    assert refused_fields(lambda: accounts.settings.change_password(anna, PASSWORD, "short")) == {
        "password"
    }


def test_the_same_password_again_is_refused(anna):
    assert refused_fields(lambda: accounts.settings.change_password(anna, PASSWORD, PASSWORD)) == {
        "password"
    }


def test_a_wrong_current_and_a_short_new_password_are_both_reported(anna):
    assert refused_fields(lambda: accounts.settings.change_password(anna, "wrong", "short")) == {
        "current_password",
        "password",
    }


def test_a_new_password_is_audited_without_the_password(anna):
    accounts.settings.change_password(anna, PASSWORD, NEW_PASSWORD)
    event = db.session.scalar(db.select(AuditEvent))
    assert (event.action, event.actor_id, event.subject_id, event.details) == (
        "user.password_changed",
        anna.id,
        anna.id,
        None,
    )


# E-mail address


def test_a_new_address_is_pending_until_confirmed(anna):
    accounts.settings.request_email_change(anna, " Anna.New@Example.org ", PASSWORD)
    assert (anna.email, anna.pending_email) == ("anna@example.org", "anna.new@example.org")
    assert accounts.authenticate("anna@example.org", PASSWORD) is not None


def test_a_new_address_gets_a_link_and_the_old_one_a_notice(anna):
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    link_mail, notice = mails()
    assert (link_mail.recipient, notice.recipient) == ("anna.new@example.org", "anna@example.org")
    assert "/account/email/confirm/" in link_mail.text_body
    assert "anna.new@example.org" in notice.text_body
    assert "/account/email/confirm/" not in notice.text_body


def test_the_link_makes_the_new_address_the_login(anna):
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    accounts.settings.confirm_email_change(link_in(mails()[0].text_body))
    assert (anna.email, anna.pending_email) == ("anna.new@example.org", None)
    assert accounts.authenticate("anna.new@example.org", PASSWORD) is not None
    assert accounts.authenticate("anna@example.org", PASSWORD) is None


def test_the_link_confirms_the_new_address(factory, ctx):
    anna = attached(User, factory.user(email_confirmed_at=None))
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    accounts.settings.confirm_email_change(link_in(mails()[0].text_body))
    assert anna.is_confirmed


def test_the_link_works_once(anna):
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    token = link_in(mails()[0].text_body)
    accounts.settings.confirm_email_change(token)
    with pytest.raises(InvalidLink):
        accounts.settings.confirm_email_change(token)


def test_a_newer_request_kills_the_older_link(anna):
    accounts.settings.request_email_change(anna, "first@example.org", PASSWORD)
    older = link_in(mails()[0].text_body)
    accounts.settings.request_email_change(anna, "second@example.org", PASSWORD)
    with pytest.raises(InvalidLink):
        accounts.settings.confirm_email_change(older)
    assert anna.email == "anna@example.org"


def test_a_cancelled_change_kills_the_link(anna):
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    accounts.settings.cancel_email_change(anna)
    with pytest.raises(InvalidLink):
        accounts.settings.confirm_email_change(link_in(mails()[0].text_body))


def request_made_hours_ago(monkeypatch, hours: float, user: User, email: str) -> None:
    then = int(time.time() - hours * 3600)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: then)
        accounts.settings.request_email_change(user, email, PASSWORD)


def test_the_link_expires(anna, app, monkeypatch):
    hours = app.config["CONFIRMATION_LINK_HOURS"]
    request_made_hours_ago(monkeypatch, hours + 0.1, anna, "anna.new@example.org")
    with pytest.raises(InvalidLink, match="expired"):
        accounts.settings.confirm_email_change(link_in(mails()[0].text_body))


def test_the_link_works_until_it_expires(anna, app, monkeypatch):
    hours = app.config["CONFIRMATION_LINK_HOURS"]
    request_made_hours_ago(monkeypatch, hours - 0.1, anna, "anna.new@example.org")
    accounts.settings.confirm_email_change(link_in(mails()[0].text_body))
    assert anna.email == "anna.new@example.org"


@pytest.mark.parametrize("token", ["", "nonsense", "a.b.c"])
def test_a_forged_link_is_refused(anna, token):
    with pytest.raises(InvalidLink):
        accounts.settings.confirm_email_change(token)


def test_a_confirmation_link_is_no_change_link(factory, ctx):
    """The tokens are salted per purpose."""
    anna = attached(User, factory.user())
    anna.pending_email = anna.email
    db.session.commit()
    with pytest.raises(InvalidLink):
        accounts.settings.confirm_email_change(accounts.confirmation_token(anna))


def test_an_address_taken_meanwhile_is_refused_at_the_link(anna, factory):
    accounts.settings.request_email_change(anna, "anna.new@example.org", PASSWORD)
    factory.user(email="anna.new@example.org")
    with pytest.raises(DomainError, match="already exists"):
        accounts.settings.confirm_email_change(link_in(mails()[0].text_body))
    db.session.expire_all()
    assert db.session.get(User, anna.id).email == "anna@example.org"


@pytest.mark.parametrize(
    ("email", "password", "fields"),
    [
        ("anna.new@example.org", "a wrong passphrase", {"current_password"}),
        ("not an address", PASSWORD, {"email"}),
        ("ANNA@example.org", PASSWORD, {"email"}),  # her own address already
        ("bruno@example.org", PASSWORD, {"email"}),  # somebody else's
        ("not an address", "wrong", {"email", "current_password"}),
    ],
)
def test_a_change_of_address_refuses_bad_input_and_sends_nothing(
    anna, factory, email, password, fields
):
    factory.user(email="bruno@example.org")
    assert (
        refused_fields(lambda: accounts.settings.request_email_change(anna, email, password))
        == fields
    )
    assert mails() == []
    assert db.session.get(User, anna.id).pending_email is None
