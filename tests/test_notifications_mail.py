"""Notification e-mails: right away or as a daily digest, in the recipient's language, each with
a one-click unsubscribe link (and the RFC 8058 headers), delivered through a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from participation.extensions import db
from participation.models import (
    Consultation,
    EmailFrequency,
    Notification,
    OutboxMail,
    Phase,
    Proposal,
    User,
)
from participation.models.base import utcnow
from participation.services import accounts, comments, mail, notifications
from participation.services.consultations import phases
from participation.services.errors import InvalidLink, ValidationFailed
from tests.helpers import attached
from tests.mailbox import SmtpServer, path_of

IMMEDIATE, DAILY, NONE = EmailFrequency.IMMEDIATE, EmailFrequency.DAILY, EmailFrequency.NONE


@pytest.fixture
def proposal(factory, ctx) -> Proposal:
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user(display_name="Anna")
    return attached(Proposal, factory.proposal(consultation, author, title="Benches"))


@pytest.fixture
def bruno(factory, ctx) -> User:
    """The one who comments."""
    return attached(User, factory.user(display_name="Bruno"))


def follower(factory, proposal, frequency: EmailFrequency | None, **fields) -> User:
    person = factory.user(**fields)
    factory.follow(person, proposal)
    if frequency is not None:
        factory.email_frequency(person, frequency)
    return attached(User, person)


def outbox(purpose: str | None = None) -> list[OutboxMail]:
    db.session.expire_all()
    query = select(OutboxMail).order_by(OutboxMail.id)
    if purpose is not None:
        query = query.where(OutboxMail.purpose == purpose)
    return list(db.session.scalars(query))


def notification_mails() -> list[OutboxMail]:
    return outbox(notifications.NOTIFICATION_MAIL)


def digests() -> list[OutboxMail]:
    return outbox(notifications.DIGEST_MAIL)


# Right away


def test_a_follower_who_asked_for_it_gets_an_e_mail_right_away(factory, proposal, bruno):
    fiona = follower(factory, proposal, IMMEDIATE, display_name="Fiona", locale="en")

    comment = comments.add(proposal, bruno, "Where exactly?")

    (sent,) = notification_mails()
    assert (sent.recipient, sent.user_id) == (fiona.email, fiona.id)
    assert sent.subject == "Bruno commented on “Benches”."
    assert "Hello Fiona," in sent.text_body
    assert f"/proposals/{proposal.id}#comment-{comment.id}" in sent.text_body


def test_the_e_mail_is_stored_with_the_event(factory, proposal, bruno):
    follower(factory, proposal, IMMEDIATE)

    with pytest.raises(ValidationFailed):
        comments.add(proposal, bruno, "")

    assert notification_mails() == []


@pytest.mark.parametrize("frequency", [None, NONE, DAILY])
def test_nobody_else_gets_an_e_mail_right_away(factory, proposal, bruno, frequency):
    follower(factory, proposal, frequency)

    comments.add(proposal, bruno, "Where exactly?")

    assert notification_mails() == []


def test_no_notification_mail_goes_to_an_unconfirmed_address(factory, proposal, bruno):
    follower(factory, proposal, IMMEDIATE, email_confirmed_at=None)

    comments.add(proposal, bruno, "Where exactly?")

    assert notification_mails() == []


def test_a_mailed_notification_is_marked_so_no_digest_repeats_it(factory, proposal, bruno):
    fiona = follower(factory, proposal, IMMEDIATE)

    comments.add(proposal, bruno, "Where exactly?")

    stored = db.session.scalars(
        select(Notification).where(Notification.recipient_id == fiona.id)
    ).one()
    assert stored.mailed_at is not None


def test_the_e_mail_is_in_the_recipients_language(factory, ctx):
    consultation = attached(Consultation, factory.consultation(phase=Phase.EVALUATING))
    german = factory.user(locale="de")
    factory.follow(german, consultation)
    factory.email_frequency(german, IMMEDIATE)
    mona = attached(User, factory.moderator())

    phases.change_phase(consultation, Phase.CLOSED, mona)  # the moderator reads English

    (sent,) = notification_mails()
    assert "„Abgeschlossen“" in sent.text_body or "“Abgeschlossen”" in sent.text_body
    assert "Bürgerbeteiligung" in sent.text_body


def test_without_a_language_of_their_own_people_get_the_platforms(factory, ctx):
    consultation = attached(Consultation, factory.consultation(phase=Phase.EVALUATING))
    person = factory.user(locale=None)
    factory.follow(person, consultation)
    factory.email_frequency(person, IMMEDIATE)

    phases.change_phase(consultation, Phase.CLOSED, attached(User, factory.moderator()))

    (sent,) = notification_mails()
    assert "Bürgerbeteiligung" in sent.text_body


def test_each_notification_mail_carries_an_unsubscribe_link(factory, proposal, bruno):
    fiona = follower(factory, proposal, IMMEDIATE)

    comments.add(proposal, bruno, "Where exactly?")

    (sent,) = notification_mails()
    assert sent.unsubscribe_url == notifications.unsubscribe_url(fiona.id)
    assert sent.unsubscribe_url in sent.text_body


# The headers of RFC 8058


def test_a_mail_with_an_unsubscribe_link_has_the_one_click_headers(factory, proposal, bruno):
    follower(factory, proposal, IMMEDIATE)
    comments.add(proposal, bruno, "Where exactly?")
    (sent,) = notification_mails()

    message = mail.build_message(sent, "noreply@town.example", utcnow())

    assert message["List-Unsubscribe"] == f"<{sent.unsubscribe_url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_account_mails_have_no_unsubscribe_headers(ctx):
    accounts.register(email="new@example.org", display_name="New", password="a long password!")
    (confirmation,) = outbox(mail.CONFIRM_EMAIL)

    message = mail.build_message(confirmation, "noreply@town.example", utcnow())

    assert (message["List-Unsubscribe"], message["List-Unsubscribe-Post"]) == (None, None)


def test_the_delivered_mail_has_the_headers_and_the_link_works(
    app: Flask, factory, proposal, bruno, monkeypatch
):
    fiona = follower(factory, proposal, IMMEDIATE)
    comments.add(proposal, bruno, "Where exactly?")

    with SmtpServer() as smtp:
        for key, value in smtp.settings().items():
            monkeypatch.setitem(app.config, key, value)
        backend = mail.backend_from_config()
        mail.send_due(backend)
        backend.close()

    (delivery,) = smtp.received
    link = delivery.message["List-Unsubscribe"].strip("<>")
    assert delivery.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    response = app.test_client().post(path_of(link), data="List-Unsubscribe=One-Click")
    assert response.status_code == 200
    assert notifications.email_frequency(db.session.get(User, fiona.id)) is NONE


# The daily digest


def _comment(proposal, author, count: int = 1) -> None:
    for number in range(count):
        comments.add(proposal, author, f"Comment number {number}.")


def test_the_digest_is_one_mail_with_every_new_notification(factory, proposal, bruno):
    daisy = follower(factory, proposal, DAILY, display_name="Daisy", locale="en")
    _comment(proposal, bruno, 3)

    queued = notifications.send_digests()

    (digest,) = digests()
    assert queued == 1
    assert (digest.recipient, digest.subject) == (daisy.email, "3 new notifications")
    assert digest.text_body.count("Bruno commented on “Benches”.") == 3
    assert digest.unsubscribe_url == notifications.unsubscribe_url(daisy.id)


def test_the_digest_marks_what_it_mailed(factory, proposal, bruno):
    daisy = follower(factory, proposal, DAILY)
    _comment(proposal, bruno)

    notifications.send_digests()

    db.session.expire_all()
    mailed = db.session.scalars(
        select(Notification.mailed_at).where(Notification.recipient_id == daisy.id)
    ).all()
    assert None not in mailed


def test_a_second_run_on_the_same_day_queues_nothing(factory, proposal, bruno):
    follower(factory, proposal, DAILY)
    _comment(proposal, bruno)
    now = utcnow()
    notifications.send_digests(now)
    _comment(proposal, bruno)

    queued = notifications.send_digests(now + timedelta(minutes=5))

    assert queued == 0
    assert len(digests()) == 1


def test_what_came_after_the_digest_goes_in_the_next_days(factory, proposal, bruno):
    follower(factory, proposal, DAILY, locale="en")
    _comment(proposal, bruno)
    now = utcnow()
    notifications.send_digests(now)
    _comment(proposal, bruno, 2)
    notifications.send_digests(now + timedelta(minutes=5))

    notifications.send_digests(now + timedelta(days=1))

    first, second = digests()
    assert (first.subject, second.subject) == ("1 new notification", "2 new notifications")


def test_the_digest_key_is_the_person_and_the_day(factory, proposal, bruno):
    daisy = follower(factory, proposal, DAILY)
    _comment(proposal, bruno)
    now = utcnow()

    notifications.send_digests(now)

    (digest,) = digests()
    assert digest.idempotency_key == f"notification_digest:user-{daisy.id}:{now:%Y-%m-%d}"


def test_the_digest_leaves_out_what_was_read_on_the_site(factory, proposal, bruno):
    daisy = follower(factory, proposal, DAILY, locale="en")
    _comment(proposal, bruno, 2)
    notifications.mark_all_read(daisy)
    _comment(proposal, bruno)

    notifications.send_digests()

    (digest,) = digests()
    assert digest.text_body.count("commented on") == 1


def test_nobody_gets_a_digest_without_anything_new(factory, proposal, bruno):
    daisy = follower(factory, proposal, DAILY)
    _comment(proposal, bruno)
    notifications.mark_all_read(daisy)

    assert notifications.send_digests() == 0
    assert digests() == []


def test_the_digest_starts_with_what_came_after_choosing_it(factory, proposal, bruno):
    person = follower(factory, proposal, NONE, locale="en")
    _comment(proposal, bruno, 2)
    notifications.set_email_frequency(person, DAILY)
    _comment(proposal, bruno)

    notifications.send_digests()

    (digest,) = digests()
    assert digest.text_body.count("commented on") == 1


@pytest.mark.parametrize("frequency", [None, NONE, IMMEDIATE])
def test_only_those_who_chose_it_get_a_digest(factory, proposal, bruno, frequency):
    follower(factory, proposal, frequency)
    _comment(proposal, bruno)

    notifications.send_digests()

    assert digests() == []


def test_a_long_digest_lists_the_first_and_says_how_many_more(
    factory, proposal, bruno, monkeypatch
):
    monkeypatch.setattr(notifications, "MAX_DIGEST_ENTRIES", 2)
    follower(factory, proposal, DAILY, locale="en")
    _comment(proposal, bruno, 5)

    notifications.send_digests()

    (digest,) = digests()
    assert digest.text_body.count("commented on") == 2
    assert "… and 3 more notifications on the site:" in digest.text_body


def test_flask_notifications_digest_queues_the_digests(app: Flask, factory, proposal, bruno):
    follower(factory, proposal, DAILY)
    follower(factory, proposal, DAILY)
    _comment(proposal, bruno)

    result = app.test_cli_runner().invoke(args=["notifications", "digest"])

    assert result.exit_code == 0, result.output
    assert "Queued 2 digest(s)" in result.output
    assert len(digests()) == 2


# Unsubscribing


def test_the_unsubscribe_link_turns_the_e_mails_off(factory, proposal):
    fiona = follower(factory, proposal, IMMEDIATE)

    notifications.unsubscribe(notifications.unsubscribe_token(fiona.id))

    assert notifications.email_frequency(fiona) is NONE


def test_unsubscribing_twice_is_harmless(factory, proposal):
    fiona = follower(factory, proposal, DAILY)
    token = notifications.unsubscribe_token(fiona.id)

    notifications.unsubscribe(token)
    notifications.unsubscribe(token)

    assert notifications.email_frequency(fiona) is NONE


def test_a_forged_unsubscribe_link_is_refused(factory, proposal):
    fiona = follower(factory, proposal, DAILY)
    token = notifications.unsubscribe_token(fiona.id)
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")

    with pytest.raises(InvalidLink):
        notifications.unsubscribe(forged)

    assert notifications.email_frequency(fiona) is DAILY


def test_a_token_for_another_purpose_does_not_unsubscribe(factory, proposal):
    """Tokens are salted per purpose: a confirmation link's token is no unsubscribe link."""
    fiona = follower(factory, proposal, DAILY)

    with pytest.raises(InvalidLink):
        notifications.unsubscribe(accounts.confirmation_token(fiona))


def test_mails_that_are_queued_never_carry_the_token_of_somebody_else(factory, proposal, bruno):
    people = [follower(factory, proposal, IMMEDIATE) for _ in range(3)]

    comments.add(proposal, bruno, "Where exactly?")

    by_recipient = {sent.user_id: sent.unsubscribe_url for sent in notification_mails()}
    assert by_recipient == {
        person.id: notifications.unsubscribe_url(person.id) for person in people
    }
