"""Moderators know that reports are waiting: the count next to "Reports" in the header, and,
for those who ask for it, a mail through the outbox whenever somebody reports content."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from participation.extensions import db
from participation.models import Comment, OutboxMail, Phase, Proposal, ReportReason, User
from participation.services import moderation, notifications
from participation.services.errors import NotAllowed
from tests.helpers import attached

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def reported(factory, ctx):
    """A published proposal with a comment in a collecting consultation, and a reporter."""
    consultation = factory.consultation(phase=Phase.COLLECTING, title="Park ideas")
    author = factory.user()
    proposal = factory.proposal(consultation, author, title="Benches")
    comment = factory.comment(proposal, author)
    return attached(Proposal, proposal), attached(Comment, comment), attached(User, factory.user())


def report_mails() -> list[OutboxMail]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.purpose == "report").order_by(OutboxMail.id)
        )
    )


def asking_moderator(factory, **fields) -> User:
    moderator = attached(User, factory.moderator(**fields))
    notifications.set_mails_on_report(moderator, True)
    return moderator


def test_a_moderator_who_asked_gets_a_mail_about_a_new_report(factory, reported):
    proposal, _, reporter = reported
    moderator = asking_moderator(factory, locale="en")
    moderation.report(reporter, proposal=proposal, reason=ReportReason.SPAM)
    [sent] = report_mails()
    assert (sent.recipient, sent.subject) == (moderator.email, "New report: Benches")
    assert "Spam or advertising" in sent.text_body
    assert "/moderation/reports?consultation=" in sent.text_body


def test_nobody_gets_a_mail_who_did_not_ask_for_it(factory, reported):
    proposal, _, reporter = reported
    factory.moderator()
    moderation.report(reporter, proposal=proposal, reason=ReportReason.SPAM)
    assert report_mails() == []


def test_the_mail_is_in_the_moderators_language(factory, reported):
    _, comment, reporter = reported
    asking_moderator(factory, locale="de")
    moderation.report(reporter, comment=comment, reason=ReportReason.OFFENSIVE)
    [sent] = report_mails()
    assert (sent.subject, "Beleidigend oder missbräuchlich" in sent.text_body) == (
        "Neue Meldung: Benches",
        True,
    )


def test_a_moderator_who_reports_gets_no_mail_about_their_own_report(factory, reported):
    proposal, _, _ = reported
    moderator = asking_moderator(factory)
    moderation.report(moderator, proposal=proposal, reason=ReportReason.SPAM)
    assert report_mails() == []


def test_a_refused_report_queues_no_mail(factory, reported):
    proposal, _, reporter = reported
    asking_moderator(factory)
    moderation.report(reporter, proposal=proposal, reason=ReportReason.SPAM)
    with pytest.raises(Exception):  # noqa: B017 - reported twice: refused, whatever the class
        moderation.report(reporter, proposal=proposal, reason=ReportReason.SPAM)
    assert len(report_mails()) == 1


def test_citizens_cannot_ask_for_report_mails(factory, ctx):
    citizen = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        notifications.set_mails_on_report(citizen, True)


def test_unsubscribing_also_ends_the_report_mails(factory, ctx):
    moderator = asking_moderator(factory)
    notifications.unsubscribe(notifications.unsubscribe_token(moderator.id))
    assert notifications.mails_on_report(moderator) is False


# Through HTTP


def test_moderators_choose_report_mails_in_their_settings(app, client, auth, factory):
    moderator = factory.moderator()
    auth.login(moderator.email)
    page = client.get("/account/settings/notifications", headers=ENGLISH).get_data(as_text=True)
    assert 'name="report_mails"' in page
    client.post(
        "/account/settings/notifications",
        data={"email_frequency": "none", "report_mails": "y"},
    )
    with app.app_context():
        assert notifications.mails_on_report(db.session.get(User, moderator.id)) is True


def test_citizens_are_not_offered_report_mails(client, auth, factory):
    auth.login(factory.user().email)
    page = client.get("/account/settings/notifications").get_data(as_text=True)
    assert 'name="report_mails"' not in page


def test_the_header_shows_moderators_how_many_reports_are_open(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    proposal = factory.proposal(consultation, factory.user())
    for _ in range(3):
        factory.report(factory.user(), proposal=proposal)
    auth.login(factory.moderator().email)
    html = client.get("/", headers=ENGLISH).get_data(as_text=True)
    link = html[html.index('href="/moderation/reports"') :]
    link = link[: link.index("</a>")]
    assert ">3<" in link and "(3 open)" in link


def test_citizens_see_no_report_count(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    factory.report(factory.user(), proposal=factory.proposal(consultation, factory.user()))
    auth.login(factory.user().email)
    html = client.get("/", headers=ENGLISH).get_data(as_text=True)
    assert "/moderation/reports" not in html and "open)" not in html
