"""Notifications: which events notify whom (never the actor), in the event's transaction, read
and marked on the site; and a fan-out whose number of statements does not grow with the
number of followers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import event, insert, select

from participation.extensions import db
from participation.models import (
    Answer,
    Comment,
    Consultation,
    EmailFrequency,
    Follow,
    Initiative,
    InitiativeStatus,
    Notification,
    NotificationKind,
    NotificationSettings,
    OutboxMail,
    Phase,
    Proposal,
    User,
)
from participation.models.base import utcnow
from participation.services import comments, initiatives, moderation, notifications
from participation.services.accounts import personal_data
from participation.services.consultations import phases
from participation.services.errors import DomainError, NotFound, ValidationFailed
from participation.services.moderation import answers
from participation.services.notifications import Reader
from tests.factories import Factory
from tests.helpers import add_comment_notifications, attached


@dataclass
class Scene:
    """Anna's proposal, which she and Fiona follow; Bruno follows nothing; Mona moderates."""

    consultation: Consultation
    proposal: Proposal
    anna: User
    fiona: User
    bruno: User
    mona: User


@pytest.fixture
def scene(factory, ctx) -> Scene:
    consultation = factory.consultation(phase=Phase.EVALUATING)
    anna = factory.user(display_name="Anna")
    fiona = factory.user(display_name="Fiona")
    bruno = factory.user(display_name="Bruno")
    mona = factory.moderator(display_name="Mona")
    proposal = factory.proposal(consultation, anna, title="Benches in the park")
    factory.follow(anna, proposal)
    factory.follow(fiona, proposal)
    return Scene(
        attached(Consultation, consultation),
        attached(Proposal, proposal),
        attached(User, anna),
        attached(User, fiona),
        attached(User, bruno),
        attached(User, mona),
    )


def received() -> list[tuple[int, NotificationKind]]:
    """(recipient, kind) of every stored notification, read afresh."""
    db.session.expire_all()
    rows = db.session.execute(
        select(Notification.recipient_id, Notification.kind).order_by(
            Notification.recipient_id, Notification.id
        )
    )
    return [tuple(row) for row in rows]


def only(kind: NotificationKind, *people: User) -> list[tuple[int, NotificationKind]]:
    return sorted((person.id, kind) for person in people)


# Comments and replies


def test_a_comment_notifies_the_followers_but_not_the_commenter(scene):
    comments.add(scene.proposal, scene.fiona, "I would sit there every day.")

    assert received() == only(NotificationKind.COMMENT, scene.anna)


def test_a_comment_by_somebody_else_notifies_every_follower(scene):
    comments.add(scene.proposal, scene.bruno, "Where exactly?")

    assert received() == only(NotificationKind.COMMENT, scene.anna, scene.fiona)


def test_the_notification_points_at_the_comment_and_its_proposal(scene):
    comment = comments.add(scene.proposal, scene.bruno, "Where exactly?")

    stored = db.session.scalars(select(Notification)).first()
    assert (stored.comment_id, stored.proposal_id, stored.consultation_id) == (
        comment.id,
        scene.proposal.id,
        scene.consultation.id,
    )
    assert stored.read_at is None


def test_a_reply_notifies_the_author_of_the_comment_even_without_following(scene):
    bruno_comment = comments.add(scene.proposal, scene.bruno, "Where exactly?")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    comments.add(scene.proposal, scene.anna, "Next to the pond.", reply_to=bruno_comment)

    assert received() == sorted(
        [(scene.fiona.id, NotificationKind.COMMENT), (scene.bruno.id, NotificationKind.REPLY)]
    )


def test_a_follower_whose_comment_is_answered_gets_one_notification_a_reply(scene):
    fiona_comment = comments.add(scene.proposal, scene.fiona, "Lovely idea.")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    comments.add(scene.proposal, scene.bruno, "Agreed.", reply_to=fiona_comment)

    assert received() == sorted(
        [(scene.anna.id, NotificationKind.COMMENT), (scene.fiona.id, NotificationKind.REPLY)]
    )


def test_replying_to_ones_own_comment_notifies_oneself_of_nothing(scene):
    bruno_comment = comments.add(scene.proposal, scene.bruno, "Where exactly?")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    comments.add(scene.proposal, scene.bruno, "I mean: which park?", reply_to=bruno_comment)

    assert received() == only(NotificationKind.COMMENT, scene.anna, scene.fiona)


def test_a_refused_comment_notifies_nobody(scene):
    with pytest.raises(ValidationFailed):
        comments.add(scene.proposal, scene.bruno, "   ")

    assert received() == []


def test_a_blocked_follower_is_not_notified(scene):
    scene.fiona.is_blocked = True
    db.session.commit()

    comments.add(scene.proposal, scene.bruno, "Where exactly?")

    assert received() == only(NotificationKind.COMMENT, scene.anna)


def test_a_deleted_account_is_not_notified_of_a_reply(scene):
    bruno_comment = comments.add(scene.proposal, scene.bruno, "Where exactly?")
    personal_data.delete_own_account(scene.bruno, Factory.PASSWORD)
    db.session.execute(db.delete(Notification))
    db.session.commit()

    comments.add(scene.proposal, scene.anna, "Next to the pond.", reply_to=bruno_comment)

    assert received() == only(NotificationKind.COMMENT, scene.fiona)


def test_the_own_data_export_has_the_follows_and_notifications(scene):
    comments.add(scene.proposal, scene.bruno, "Where exactly?")

    data = personal_data.export(scene.fiona)

    assert [row["proposal_id"] for row in data["follows"]] == [scene.proposal.id]
    assert [row["kind"] for row in data["notifications"]] == ["comment"]


def test_people_who_stopped_following_are_not_notified(scene):
    db.session.execute(db.delete(Follow).where(Follow.user_id == scene.fiona.id))
    db.session.commit()

    comments.add(scene.proposal, scene.bruno, "Where exactly?")

    assert received() == only(NotificationKind.COMMENT, scene.anna)


# Answers, hiding, promotion, progress and phases


def test_an_answer_notifies_the_followers_with_the_answer(scene):
    answers.answer_proposal(scene.proposal, scene.mona, Answer.ACCEPTED, "We build them.")

    assert received() == only(NotificationKind.ANSWER, scene.anna, scene.fiona)
    details = set(db.session.scalars(select(Notification.detail)))
    assert details == {"accepted"}


def test_an_answering_moderator_who_follows_is_not_notified(scene, factory):
    factory.follow(scene.mona, scene.proposal)

    answers.answer_proposal(scene.proposal, scene.mona, Answer.REJECTED, "No room.")

    assert received() == only(NotificationKind.ANSWER, scene.anna, scene.fiona)


def test_taking_an_answer_back_notifies_nobody(scene):
    answers.answer_proposal(scene.proposal, scene.mona, Answer.ACCEPTED, "We build them.")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    answers.answer_proposal(scene.proposal, scene.mona, Answer.NONE, "")

    assert received() == []


def test_saving_the_same_answer_again_notifies_nobody(scene):
    answers.answer_proposal(scene.proposal, scene.mona, Answer.ACCEPTED, "We build them.")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    answers.answer_proposal(scene.proposal, scene.mona, Answer.ACCEPTED, "We build them.")

    assert received() == []


def test_hiding_a_proposal_notifies_its_followers(scene):
    moderation.hide_proposal(scene.proposal, scene.mona, "Advertising.")

    assert received() == only(NotificationKind.HIDDEN, scene.anna, scene.fiona)


def test_restoring_a_proposal_notifies_nobody(scene):
    moderation.hide_proposal(scene.proposal, scene.mona, "Advertising.")
    db.session.execute(db.delete(Notification))
    db.session.commit()

    moderation.restore_proposal(scene.proposal, scene.mona)

    assert received() == []


def _accepted(scene: Scene) -> Proposal:
    scene.proposal.answer = Answer.ACCEPTED
    db.session.commit()
    return scene.proposal


def test_promoting_a_proposal_notifies_its_followers_with_the_initiative(scene):
    initiative = initiatives.promote(
        _accepted(scene), scene.mona, 5000, "Parks department", InitiativeStatus.PLANNED, 0
    )

    assert received() == only(NotificationKind.PROMOTED, scene.anna, scene.fiona)
    assert set(db.session.scalars(select(Notification.initiative_id))) == {initiative.id}


def test_a_progress_update_notifies_the_followers_of_the_proposal(scene, factory):
    initiative = attached(Initiative, factory.initiative(scene.proposal))

    update = initiatives.post_update(initiative, scene.mona, date(2027, 5, 1), "Benches ordered.")

    assert received() == only(NotificationKind.INITIATIVE_UPDATE, scene.anna, scene.fiona)
    assert set(db.session.scalars(select(Notification.initiative_update_id))) == {update.id}


def test_a_refused_progress_update_notifies_nobody(scene, factory):
    initiative = attached(Initiative, factory.initiative(scene.proposal))

    with pytest.raises(ValidationFailed):
        initiatives.post_update(initiative, scene.mona, date(2027, 5, 1), "")

    assert received() == []


def test_a_phase_change_notifies_the_followers_of_the_consultation_only(scene, factory):
    factory.follow(scene.bruno, scene.consultation)

    phases.change_phase(scene.consultation, Phase.CLOSED, scene.mona)

    assert received() == only(NotificationKind.PHASE, scene.bruno)
    assert set(db.session.scalars(select(Notification.detail))) == {"closed"}


def test_the_moderator_who_changes_the_phase_is_not_notified(scene, factory):
    factory.follow(scene.mona, scene.consultation)

    phases.change_phase(scene.consultation, Phase.CLOSED, scene.mona)

    assert received() == []


def test_notifications_are_written_in_the_transaction_of_their_event(scene):
    """The service notifies before it commits: when the event is rolled back, so are they."""
    scene.proposal.answer = Answer.ACCEPTED
    notifications.notify_answer(scene.proposal, scene.mona)
    db.session.rollback()

    assert received() == []


def test_a_refused_phase_change_notifies_nobody(scene, factory):
    factory.follow(scene.bruno, scene.consultation)

    with pytest.raises(DomainError):
        phases.change_phase(scene.consultation, Phase.VOTING, scene.mona)

    assert received() == []


# What a notification says


def _describe(user: User) -> str:
    notification = db.session.scalars(
        select(Notification).where(Notification.recipient_id == user.id)
    ).one()
    return notifications.describe(notification, Reader.of(user)).text


def test_a_comment_notification_names_the_commenter_and_the_proposal(scene):
    comments.add(scene.proposal, scene.bruno, "Where exactly?")

    assert _describe(scene.anna) == "Bruno commented on “Benches in the park”."


def test_a_reply_notification_says_it_is_a_reply(scene):
    anna_comment = comments.add(scene.proposal, scene.anna, "Next to the pond.")
    comments.add(scene.proposal, scene.bruno, "Good.", reply_to=anna_comment)

    assert _describe(scene.anna) == "Bruno replied to your comment on “Benches in the park”."


def test_an_answer_notification_says_the_answer(scene):
    answers.answer_proposal(scene.proposal, scene.mona, Answer.REJECTED, "No room.")

    assert _describe(scene.fiona) == "The proposal “Benches in the park” was rejected."


def test_a_hidden_proposal_is_named_to_its_author_only(scene):
    moderation.hide_proposal(scene.proposal, scene.mona, "Advertising.")

    assert (
        _describe(scene.anna) == "The proposal “Benches in the park” was hidden by the moderators."
    )
    assert _describe(scene.fiona) == "A proposal you follow was hidden by the moderators."


def test_a_phase_notification_names_the_phase_it_moved_to(scene, factory):
    factory.follow(scene.bruno, scene.consultation)
    phases.change_phase(scene.consultation, Phase.CLOSED, scene.mona)

    assert (
        _describe(scene.bruno)
        == f"The consultation “{scene.consultation.title}” moved to the phase “Closed”."
    )


def test_the_comment_of_a_deleted_account_is_by_a_deleted_participant(scene):
    comments.add(scene.proposal, scene.bruno, "Where exactly?")
    db.session.execute(db.update(Comment).values(author_id=None))
    db.session.commit()

    assert _describe(scene.anna) == "deleted participant commented on “Benches in the park”."


# Reading and marking


def _notify(recipient: User, proposal: Proposal, count: int) -> list[int]:
    """`count` comment notifications a minute apart, oldest first; returns their ids."""
    comment = db.session.scalars(select(Comment).where(Comment.proposal_id == proposal.id)).first()
    if comment is None:
        comment = Comment(proposal_id=proposal.id, author_id=None, body="A comment.")
        db.session.add(comment)
        db.session.flush()
    return add_comment_notifications(recipient.id, proposal, comment.id, count)


def test_the_unread_count_counts_only_the_persons_unread_notifications(scene):
    _notify(scene.anna, scene.proposal, 3)
    _notify(scene.fiona, scene.proposal, 2)

    assert notifications.unread_count(scene.anna) == 3


def test_the_page_lists_the_newest_first(scene):
    ids = _notify(scene.anna, scene.proposal, 3)

    page = notifications.page_for(scene.anna)

    assert [item.id for item in page.items] == ids[::-1]


def test_the_page_is_paginated(scene):
    ids = _notify(scene.anna, scene.proposal, 25)

    second = notifications.page_for(scene.anna, page=2, per_page=20)

    assert [item.id for item in second.items] == ids[::-1][20:]
    assert second.pages == 2


def test_marking_one_as_read_leaves_the_others_unread(scene):
    first, _second = _notify(scene.anna, scene.proposal, 2)

    notifications.mark_read(scene.anna, first)

    assert notifications.unread_count(scene.anna) == 1
    assert db.session.get(Notification, first).read_at is not None


def test_nobody_marks_another_persons_notification(scene):
    (annas,) = _notify(scene.anna, scene.proposal, 1)

    with pytest.raises(NotFound):
        notifications.mark_read(scene.fiona, annas)

    assert db.session.get(Notification, annas).read_at is None


def test_marking_all_as_read_marks_only_the_persons_own(scene):
    _notify(scene.anna, scene.proposal, 3)
    _notify(scene.fiona, scene.proposal, 2)

    marked = notifications.mark_all_read(scene.anna)

    assert marked == 3
    assert (notifications.unread_count(scene.anna), notifications.unread_count(scene.fiona)) == (
        0,
        2,
    )


# Fan-out: a constant number of statements


def _followers(proposal: Proposal, count: int) -> None:
    """`count` confirmed accounts following the proposal, written in bulk (no password hashing):
    every other one wants an e-mail right away, every fourth a daily digest."""
    marker = f"p{proposal.id}"
    now = utcnow()
    db.session.execute(
        insert(User),
        [
            {
                "email": f"follower{number}.{marker}@example.org",
                "display_name": f"Follower {number}",
                "password_hash": "-",
                "locale": "de" if number % 3 else "en",
                "email_confirmed_at": now,
            }
            for number in range(count)
        ],
    )
    ids = list(db.session.scalars(select(User.id).where(User.email.like(f"follower%.{marker}@%"))))
    db.session.execute(
        insert(Follow), [{"user_id": user_id, "proposal_id": proposal.id} for user_id in ids]
    )
    choices = {0: EmailFrequency.IMMEDIATE, 1: EmailFrequency.DAILY, 2: EmailFrequency.IMMEDIATE}
    db.session.execute(
        insert(NotificationSettings),
        [
            {"user_id": user_id, "email_frequency": choices[index % 4]}
            for index, user_id in enumerate(ids)
            if index % 4 in choices
        ],
    )
    db.session.commit()


def _statements_of_a_comment(proposal_id: int, commenter_id: int) -> list[str]:
    db.session.remove()
    proposal = db.session.get(Proposal, proposal_id)
    commenter = db.session.get(User, commenter_id)
    proposal.consultation  # noqa: B018 - loaded before counting, like a view does
    statements: list[str] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        comments.add(proposal, commenter, "What a good idea.")
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return statements


def test_notifying_2000_followers_takes_as_many_statements_as_notifying_10(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    small = factory.proposal(consultation, author)
    large = factory.proposal(consultation, author)
    commenter = factory.user()
    _followers(attached(Proposal, small), 10)
    _followers(attached(Proposal, large), 2000)

    for_ten = _statements_of_a_comment(small.id, commenter.id)
    for_two_thousand = _statements_of_a_comment(large.id, commenter.id)

    assert len(for_two_thousand) == len(for_ten)
    # ... and they did reach everybody: a notification each, a mail for those who want one now.
    counts = {
        proposal_id: db.session.scalar(
            select(db.func.count())
            .select_from(Notification)
            .where(Notification.proposal_id == proposal_id)
        )
        for proposal_id in (small.id, large.id)
    }
    assert counts == {small.id: 10, large.id: 2000}
    mails = db.session.scalar(
        select(db.func.count()).select_from(OutboxMail).where(OutboxMail.purpose == "notification")
    )
    assert mails == 5 + 1000  # every index 0 and 2 modulo 4
