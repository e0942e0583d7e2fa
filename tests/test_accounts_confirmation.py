"""Confirming the e-mail address and resetting a forgotten password: the signed links, and
what an account may do before its address is confirmed (services)."""

from __future__ import annotations

import time

import pytest
from flask_babel import force_locale
from itsdangerous import TimestampSigner
from sqlalchemy import select

from participation.extensions import db
from participation.models import OutboxMail, Phase, ReportReason, User, VotingMethod
from participation.services import accounts, comments, mail, moderation, proposals, votes
from participation.services.budgeting import ballots
from participation.services.errors import InvalidLink, NotConfirmed, ValidationFailed
from participation.services.proposals import ProposalText
from tests.helpers import attached
from tests.mailbox import link_in

NEW_PASSWORD = "a brand new password"


def _register(**fields) -> User:
    values = {
        "email": "anna@example.org",
        "display_name": "Anna",
        "password": "a long enough password",
    }
    return accounts.register(**(values | fields))


def _mails(purpose: str) -> list[OutboxMail]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.purpose == purpose).order_by(OutboxMail.id)
        )
    )


def _token_in(row: OutboxMail) -> str:
    return link_in(row.text_body).rsplit("/", 1)[1]


def _made_hours_ago(monkeypatch, hours: float, make):
    """A token as it was made `hours` ago."""
    then = int(time.time() - hours * 3600)
    with monkeypatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: then)
        return make()


# Registration


def test_a_new_account_is_not_confirmed(ctx):
    assert _register().is_confirmed is False


def test_registration_mails_a_confirmation_link_to_the_new_address(ctx):
    user = _register()

    (row,) = _mails(mail.CONFIRM_EMAIL)
    assert row.recipient == user.email
    assert "http://localhost/account/confirm/" in link_in(row.text_body)


def test_the_confirmation_mail_greets_by_name_and_says_how_long_the_link_lasts(ctx):
    _register(display_name="Anna Müller")

    (row,) = _mails(mail.CONFIRM_EMAIL)
    assert row.subject == "Please confirm your e-mail address"
    assert row.text_body.startswith("Hello Anna Müller,")
    assert "The link is valid for 72 hours." in row.text_body


def test_the_confirmation_mail_is_in_the_language_of_the_page(ctx):
    with force_locale("de"):
        _register()

    (row,) = _mails(mail.CONFIRM_EMAIL)
    assert row.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"


def test_the_confirmation_mail_is_in_the_accounts_own_language(ctx):
    user = _register()
    user.locale = "de"
    db.session.commit()
    db.session.execute(db.delete(OutboxMail))
    db.session.commit()

    with force_locale("en"):
        accounts.resend_confirmation(user)

    (row,) = _mails(mail.CONFIRM_EMAIL)
    assert row.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert row.text_body.startswith("Hallo Anna,")


def test_an_account_created_by_the_operators_is_confirmed_and_gets_no_mail(ctx):
    user = _register(confirmed=True)

    assert user.is_confirmed
    assert _mails(mail.CONFIRM_EMAIL) == []


# Confirming


def test_the_confirmation_link_confirms_the_address(ctx):
    user = _register()

    accounts.confirm_email(_token_in(_mails(mail.CONFIRM_EMAIL)[0]))

    db.session.refresh(user)
    assert user.is_confirmed


def test_opening_the_confirmation_link_twice_keeps_the_first_confirmation(ctx):
    user = _register()
    token = accounts.confirmation_token(user)
    accounts.confirm_email(token)
    first = user.email_confirmed_at

    accounts.confirm_email(token)

    assert user.email_confirmed_at == first


def test_an_expired_confirmation_link_is_refused(ctx, monkeypatch):
    user = _register()
    token = _made_hours_ago(monkeypatch, 73, lambda: accounts.confirmation_token(user))

    with pytest.raises(InvalidLink, match="expired"):
        accounts.confirm_email(token)
    assert not attached(User, user).is_confirmed


def test_a_confirmation_link_within_its_hours_works(ctx, monkeypatch):
    user = _register()
    token = _made_hours_ago(monkeypatch, 71, lambda: accounts.confirmation_token(user))

    assert accounts.confirm_email(token).is_confirmed


def test_a_tampered_confirmation_link_is_refused(ctx):
    user = _register()
    token = accounts.confirmation_token(user)
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")

    with pytest.raises(InvalidLink, match="not valid"):
        accounts.confirm_email(forged)


def test_a_confirmation_link_for_an_address_the_account_no_longer_has_is_refused(ctx):
    user = _register()
    token = accounts.confirmation_token(user)
    user.email = "anna.new@example.org"
    db.session.commit()

    with pytest.raises(InvalidLink):
        accounts.confirm_email(token)


def test_a_reset_token_does_not_confirm_an_address(ctx):
    """Each purpose signs with its own salt."""
    user = _register()

    with pytest.raises(InvalidLink):
        accounts.confirm_email(accounts.password_reset_token(user))


def test_a_token_signed_with_another_secret_is_refused(ctx, app, monkeypatch):
    user = _register()
    monkeypatch.setitem(app.config, "SECRET_KEY", "another installation")
    token = accounts.confirmation_token(user)
    monkeypatch.setitem(app.config, "SECRET_KEY", "testing")

    with pytest.raises(InvalidLink):
        accounts.confirm_email(token)


def test_the_confirmation_link_holds_neither_the_address_nor_a_hash_in_plain_sight(ctx):
    user = _register()

    token = accounts.confirmation_token(user)

    assert "anna" not in token.lower()
    assert user.password_hash not in token


def test_asking_again_queues_a_new_confirmation_mail(ctx, monkeypatch):
    user = _register()
    later = mail.minute_key("x").rsplit(":", 1)[1]
    monkeypatch.setattr(mail, "minute_key", lambda prefix: f"{prefix}:{later}-again")

    accounts.resend_confirmation(user)

    assert len(_mails(mail.CONFIRM_EMAIL)) == 2


def test_asking_twice_in_the_same_minute_queues_one_mail(ctx):
    user = _register()

    accounts.resend_confirmation(user)
    accounts.resend_confirmation(user)

    assert len(_mails(mail.CONFIRM_EMAIL)) == 1


def test_a_confirmed_account_gets_no_new_confirmation_mail(ctx, factory):
    user = attached(User, factory.user())

    accounts.resend_confirmation(user)

    assert _mails(mail.CONFIRM_EMAIL) == []


# What an unconfirmed account may not do


@pytest.fixture
def unconfirmed(factory, ctx) -> User:
    return attached(User, factory.user(email_confirmed_at=None))


def test_an_unconfirmed_citizen_cannot_support(factory, unconfirmed):
    consultation = factory.consultation(phase=Phase.VOTING)
    proposal = factory.proposal(consultation, factory.user())

    with pytest.raises(NotConfirmed, match="confirm your e-mail address"):
        votes.support(attached(type(proposal), proposal), unconfirmed)


def test_an_unconfirmed_citizen_cannot_fill_in_a_ballot(factory, unconfirmed):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)

    with pytest.raises(NotConfirmed):
        ballots.submit_ballot(attached(type(consultation), consultation), unconfirmed, [project.id])


def test_an_unconfirmed_citizen_cannot_submit_a_proposal(factory, unconfirmed):
    consultation = attached(type(factory.consultation()), factory.consultation())

    with pytest.raises(NotConfirmed):
        proposals.submit(consultation, unconfirmed, ProposalText("A bench", "By the river."))


def test_an_unconfirmed_citizen_cannot_comment(factory, unconfirmed):
    proposal = factory.proposal(factory.consultation(), factory.user())

    with pytest.raises(NotConfirmed):
        comments.add(attached(type(proposal), proposal), unconfirmed, "I agree.")


def test_an_unconfirmed_citizen_cannot_report(factory, unconfirmed):
    proposal = factory.proposal(factory.consultation(), factory.user())

    with pytest.raises(NotConfirmed):
        moderation.report(
            unconfirmed, proposal=attached(type(proposal), proposal), reason=ReportReason.SPAM
        )


def test_a_confirmed_citizen_supports(factory, unconfirmed):
    consultation = factory.consultation(phase=Phase.VOTING)
    proposal = factory.proposal(consultation, factory.user())
    accounts.confirm_email(accounts.confirmation_token(unconfirmed))

    state = votes.support(attached(type(proposal), proposal), unconfirmed)

    assert state.supported


# Forgotten passwords


def test_asking_for_a_reset_link_mails_it_to_the_account(ctx, factory):
    user = factory.user(email="anna@example.org")

    accounts.request_password_reset("  Anna@Example.org ")

    (row,) = _mails(mail.RESET_PASSWORD)
    assert (row.recipient, row.user_id) == ("anna@example.org", user.id)
    assert "http://localhost/account/password/reset/" in link_in(row.text_body)
    assert "The link is valid for 2 hours and works once." in row.text_body


@pytest.mark.parametrize("email", ["nobody@example.org", "not an address"])
def test_asking_for_a_reset_link_for_an_unknown_address_queues_nothing(ctx, factory, email):
    factory.user(email="anna@example.org")

    accounts.request_password_reset(email)

    assert _mails(mail.RESET_PASSWORD) == []


def test_a_blocked_account_gets_no_reset_link(ctx, factory):
    factory.user(email="anna@example.org", is_blocked=True)

    accounts.request_password_reset("anna@example.org")

    assert _mails(mail.RESET_PASSWORD) == []


def test_the_reset_link_sets_the_new_password(ctx, factory):
    factory.user(email="anna@example.org")
    accounts.request_password_reset("anna@example.org")

    accounts.reset_password(_token_in(_mails(mail.RESET_PASSWORD)[0]), NEW_PASSWORD)

    assert accounts.authenticate("anna@example.org", NEW_PASSWORD) is not None
    assert accounts.authenticate("anna@example.org", factory.PASSWORD) is None


def test_the_reset_link_works_only_once(ctx, factory):
    user = attached(User, factory.user())
    token = accounts.password_reset_token(user)
    accounts.reset_password(token, NEW_PASSWORD)

    with pytest.raises(InvalidLink, match="already used"):
        accounts.reset_password(token, "yet another password")
    assert accounts.authenticate(user.email, NEW_PASSWORD) is not None


def test_a_reset_link_dies_when_the_password_changes_otherwise(ctx, factory):
    user = attached(User, factory.user())
    token = accounts.password_reset_token(user)
    user.password_hash = accounts.hash_password("changed another way")
    db.session.commit()

    with pytest.raises(InvalidLink):
        accounts.account_for_reset(token)


def test_an_expired_reset_link_is_refused(ctx, factory, monkeypatch):
    user = attached(User, factory.user())
    token = _made_hours_ago(monkeypatch, 2.1, lambda: accounts.password_reset_token(user))

    with pytest.raises(InvalidLink, match="expired"):
        accounts.reset_password(token, NEW_PASSWORD)


def test_a_confirmation_token_does_not_reset_a_password(ctx, factory):
    user = attached(User, factory.user())

    with pytest.raises(InvalidLink):
        accounts.reset_password(accounts.confirmation_token(user), NEW_PASSWORD)


def test_a_reset_with_a_short_password_is_refused_and_the_link_still_works(ctx, factory):
    user = attached(User, factory.user())
    token = accounts.password_reset_token(user)

    with pytest.raises(ValidationFailed):
        accounts.reset_password(token, "short")

    assert accounts.account_for_reset(token).id == user.id


def test_resetting_the_password_confirms_the_address(ctx, factory):
    user = attached(User, factory.user(email_confirmed_at=None))

    accounts.reset_password(accounts.password_reset_token(user), NEW_PASSWORD)

    assert attached(User, user).is_confirmed


def test_two_resets_with_one_link_at_the_same_moment_change_the_password_once(
    app, threaded_app, factory
):
    from tests.helpers import at_the_same_moment

    user = factory.user()
    with app.app_context():
        token = accounts.password_reset_token(db.session.get(User, user.id))

    def load(password):
        return (password,)

    def act(password):
        return accounts.reset_password(token, password)

    outcomes = at_the_same_moment(
        threaded_app, load, act, [("first new password",), ("second new password",)]
    )

    refused = [outcome for outcome in outcomes if isinstance(outcome, InvalidLink)]
    assert len(refused) == 1, outcomes
