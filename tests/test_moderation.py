"""The moderation service: reports, the queue, hiding and restoring, dismissing, blocking,
and the audit events every moderator action leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_login import AnonymousUserMixin

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Comment,
    CommentState,
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    Report,
    ReportReason,
    ReportState,
    User,
)
from participation.services import accounts, moderation, proposals
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from participation.services.proposals import ProposalQuery
from tests.conftest import START
from tests.helpers import attached


def in_english(message) -> str:
    with force_locale("en"):
        return str(message)


def all_reports() -> list[Report]:
    db.session.expire_all()
    return list(db.session.scalars(db.select(Report).order_by(Report.id)))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)))


def listed(consultation, **query) -> list[int]:
    page = proposals.search(attached(Consultation, consultation), ProposalQuery(**query))
    return [proposal.id for proposal in page.items]


def published_comments(proposal) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Comment)
        .where(Comment.proposal_id == proposal.id, Comment.state == CommentState.PUBLISHED)
    )


def stored_comment_count(proposal) -> int:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id).comment_count


@pytest.fixture
def scene(factory):
    """A collecting consultation with a citizen's published proposal, carrying one published
    comment (counted), plus another citizen, a moderator and an admin."""
    consultation = factory.consultation(phase=Phase.COLLECTING)
    author = factory.user()
    proposal = factory.proposal(consultation, author, title="Benches", comment_count=1)
    comment = factory.comment(proposal, author, body="Buy my watches!")
    return {
        "consultation": consultation,
        "author": author,
        "proposal": proposal,
        "comment": comment,
        "citizen": factory.user(),
        "moderator": factory.moderator(),
        "admin": factory.admin(),
    }


@pytest.fixture
def s(scene, ctx):
    """The scene, attached to the session of the test's app context."""
    models = {"consultation": Consultation, "proposal": Proposal, "comment": Comment}
    return {name: attached(models.get(name, User), value) for name, value in scene.items()}


# Reporting


def test_citizen_reports_a_proposal(s):
    moderation.report(s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM)
    [stored] = all_reports()
    assert (
        stored.reporter_id,
        stored.proposal_id,
        stored.comment_id,
        stored.consultation_id,
        stored.reason,
        stored.state,
    ) == (
        s["citizen"].id,
        s["proposal"].id,
        None,
        s["consultation"].id,
        ReportReason.SPAM,
        ReportState.OPEN,
    )


def test_citizen_reports_a_comment_of_the_proposals_consultation(s):
    moderation.report(s["citizen"], comment=s["comment"], reason=ReportReason.OFFENSIVE)
    [stored] = all_reports()
    assert (stored.comment_id, stored.proposal_id, stored.consultation_id) == (
        s["comment"].id,
        None,
        s["consultation"].id,
    )


@pytest.mark.parametrize("subject", ["proposal", "comment"])
def test_second_report_of_the_same_subject_is_refused_and_stores_nothing(s, subject):
    moderation.report(s["citizen"], reason=ReportReason.SPAM, **{subject: s[subject]})
    with pytest.raises(DomainError) as refused:
        moderation.report(
            s["citizen"], reason=ReportReason.OTHER, text="Again", **{subject: s[subject]}
        )
    assert "already reported" in in_english(refused.value.message)
    assert [(r.reason, r.text) for r in all_reports()] == [(ReportReason.SPAM, "")]


def test_a_report_sent_twice_at_once_is_refused_by_the_database(s, monkeypatch):
    """The second of two simultaneous reports passes the check; the unique constraint stops it."""
    moderation.report(s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM)
    monkeypatch.setattr(moderation, "has_reported", lambda *args, **kwargs: False)
    with pytest.raises(DomainError) as refused:
        moderation.report(s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM)
    assert "already reported" in in_english(refused.value.message)
    assert len(all_reports()) == 1


def test_two_citizens_report_the_same_proposal(s, factory):
    other = attached(User, factory.user())
    moderation.report(s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM)
    moderation.report(other, proposal=s["proposal"], reason=ReportReason.OFF_TOPIC)
    assert len(all_reports()) == 2


def test_reason_other_needs_a_text(s):
    with pytest.raises(ValidationFailed) as refused:
        moderation.report(
            s["citizen"], proposal=s["proposal"], reason=ReportReason.OTHER, text="   "
        )
    assert list(refused.value.errors) == ["text"]
    assert all_reports() == []


def test_reason_other_with_a_text_is_stored(s):
    moderation.report(
        s["citizen"], proposal=s["proposal"], reason=ReportReason.OTHER, text=" Copied text "
    )
    assert [r.text for r in all_reports()] == ["Copied text"]


def test_report_text_longer_than_the_limit_is_refused(s):
    with pytest.raises(ValidationFailed):
        moderation.report(
            s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM, text="x" * 1001
        )
    assert all_reports() == []


def test_visitor_cannot_report(s):
    with pytest.raises(NotAllowed):
        moderation.report(AnonymousUserMixin(), proposal=s["proposal"], reason=ReportReason.SPAM)
    assert all_reports() == []


@pytest.mark.parametrize("subject", ["proposal", "comment"])
def test_author_cannot_report_own_content(s, subject):
    with pytest.raises(DomainError):
        moderation.report(s["author"], reason=ReportReason.SPAM, **{subject: s[subject]})
    assert all_reports() == []


def test_hidden_proposal_cannot_be_reported(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    with pytest.raises(DomainError):
        moderation.report(s["citizen"], proposal=s["proposal"], reason=ReportReason.SPAM)
    assert all_reports() == []


@pytest.mark.parametrize("state", [CommentState.HIDDEN, CommentState.DELETED])
def test_comment_that_is_not_published_cannot_be_reported(s, factory, state):
    comment = attached(Comment, factory.comment(s["proposal"], s["author"], state=state))
    with pytest.raises(DomainError):
        moderation.report(s["citizen"], comment=comment, reason=ReportReason.SPAM)
    assert all_reports() == []


# The queue


def test_queue_groups_the_reports_of_one_subject(s, factory):
    for reason in (ReportReason.SPAM, ReportReason.SPAM, ReportReason.OFFENSIVE):
        factory.report(factory.user(), proposal=s["proposal"], reason=reason)
    [subject] = moderation.open_reports().items
    assert (subject.proposal.id, subject.count, dict(subject.reasons)) == (
        s["proposal"].id,
        3,
        {ReportReason.SPAM: 2, ReportReason.OFFENSIVE: 1},
    )


def test_queue_shows_the_longest_waiting_subject_first(s, factory):
    factory.report(factory.user(), proposal=s["proposal"], created_at=START + timedelta(hours=2))
    factory.report(factory.user(), comment=s["comment"], created_at=START + timedelta(hours=1))
    factory.report(factory.user(), proposal=s["proposal"], created_at=START)
    queue = moderation.open_reports()
    assert [(item.proposal is not None, item.count) for item in queue.items] == [
        (True, 2),
        (False, 1),
    ]


def test_queue_leaves_out_handled_reports(s, factory):
    factory.report(factory.user(), proposal=s["proposal"], state=ReportState.DISMISSED)
    factory.report(factory.user(), comment=s["comment"])
    assert [item.comment.id for item in moderation.open_reports().items] == [s["comment"].id]


def test_queue_of_one_consultation(s, factory):
    elsewhere = factory.proposal(factory.consultation(), factory.user())
    factory.report(factory.user(), proposal=elsewhere)
    factory.report(factory.user(), proposal=s["proposal"])
    queue = moderation.open_reports(s["consultation"])
    assert [item.proposal.id for item in queue.items] == [s["proposal"].id]


def test_queue_pages_count_subjects_not_reports(s, factory):
    for minutes in range(3):
        proposal = factory.proposal(s["consultation"], s["author"])
        for _ in range(2):
            factory.report(
                factory.user(), proposal=proposal, created_at=START + timedelta(minutes=minutes)
            )
    second_page = moderation.open_reports(page=2, per_page=2)
    assert (second_page.total, len(second_page.items), second_page.items[0].count) == (3, 1, 2)


def test_open_report_count_of_a_consultation(s, factory):
    factory.report(factory.user(), proposal=s["proposal"])
    factory.report(factory.user(), comment=s["comment"])
    factory.report(factory.user(), proposal=s["proposal"], state=ReportState.DISMISSED)
    factory.report(factory.user(), proposal=factory.proposal(factory.consultation(), s["author"]))
    assert moderation.open_report_count(s["consultation"]) == 2


# Hiding and restoring proposals


def test_moderator_hides_a_proposal_with_a_public_reason(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "  Advertising,\n not a proposal ")
    db.session.expire_all()
    stored = attached(Proposal, s["proposal"])
    assert (stored.state, stored.hidden_reason) == (
        ProposalState.HIDDEN,
        "Advertising, not a proposal",
    )


def test_hiding_needs_a_reason(s):
    with pytest.raises(ValidationFailed) as refused:
        moderation.hide_proposal(s["proposal"], s["moderator"], "  ")
    assert list(refused.value.errors) == ["reason"]
    db.session.expire_all()
    assert attached(Proposal, s["proposal"]).state is ProposalState.PUBLISHED


def test_citizen_cannot_hide_a_proposal(s):
    with pytest.raises(NotAllowed):
        moderation.hide_proposal(s["proposal"], s["citizen"], "I do not like it")
    db.session.expire_all()
    assert attached(Proposal, s["proposal"]).state is ProposalState.PUBLISHED


def test_hidden_proposal_is_gone_from_the_list_and_the_search(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    assert (listed(s["consultation"]), listed(s["consultation"], text="Benches")) == ([], [])


def test_hiding_resolves_the_open_reports_of_that_proposal_as_actioned(s, factory):
    factory.report(factory.user(), proposal=s["proposal"])
    factory.report(factory.user(), proposal=s["proposal"])
    factory.report(factory.user(), comment=s["comment"])
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    assert [(r.proposal_id is not None, r.state, r.resolved_by_id) for r in all_reports()] == [
        (True, ReportState.ACTIONED, s["moderator"].id),
        (True, ReportState.ACTIONED, s["moderator"].id),
        (False, ReportState.OPEN, None),
    ]


def test_hiding_an_already_hidden_proposal_is_refused(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    with pytest.raises(DomainError):
        moderation.hide_proposal(s["proposal"], s["moderator"], "Another reason")
    db.session.expire_all()
    assert attached(Proposal, s["proposal"]).hidden_reason == "Advertising"


def test_withdrawn_proposal_cannot_be_hidden(s, factory):
    withdrawn = factory.proposal(s["consultation"], s["author"], state=ProposalState.WITHDRAWN)
    with pytest.raises(DomainError):
        moderation.hide_proposal(attached(Proposal, withdrawn), s["moderator"], "Advertising")


def test_restored_proposal_is_listed_again_without_the_reason(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    moderation.restore_proposal(s["proposal"], s["moderator"])
    db.session.expire_all()
    stored = attached(Proposal, s["proposal"])
    assert (stored.state, stored.hidden_reason, listed(s["consultation"])) == (
        ProposalState.PUBLISHED,
        None,
        [s["proposal"].id],
    )


def test_restoring_a_published_proposal_is_refused(s):
    with pytest.raises(DomainError):
        moderation.restore_proposal(s["proposal"], s["moderator"])


def test_hidden_proposal_is_visible_to_its_author_and_moderators_only(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    proposal = attached(Proposal, s["proposal"])
    seen_by = [
        proposals.can_see(proposal, viewer)
        for viewer in (AnonymousUserMixin(), s["citizen"], s["author"], s["moderator"])
    ]
    assert seen_by == [False, False, True, True]


# Hiding and restoring comments


def test_hiding_a_comment_takes_it_off_the_proposals_count(s):
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    assert (stored_comment_count(s["proposal"]), published_comments(s["proposal"])) == (0, 0)


def test_restoring_a_comment_counts_it_again(s):
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    moderation.restore_comment(attached(Comment, s["comment"]), s["moderator"])
    assert (stored_comment_count(s["proposal"]), published_comments(s["proposal"])) == (1, 1)


def test_hidden_comment_keeps_its_text_and_gets_the_reason(s):
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    db.session.expire_all()
    stored = attached(Comment, s["comment"])
    assert (stored.state, stored.hidden_reason, stored.body) == (
        CommentState.HIDDEN,
        "Advertising",
        "Buy my watches!",
    )


def test_hiding_a_deleted_comment_changes_nothing(s, factory):
    deleted = factory.comment(s["proposal"], s["author"], state=CommentState.DELETED, body="")
    with pytest.raises(DomainError):
        moderation.hide_comment(attached(Comment, deleted), s["moderator"], "Advertising")
    db.session.expire_all()
    assert (attached(Comment, deleted).state, stored_comment_count(s["proposal"])) == (
        CommentState.DELETED,
        1,
    )


def test_hiding_a_comment_twice_counts_it_off_once(s):
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    with pytest.raises(DomainError):
        moderation.hide_comment(attached(Comment, s["comment"]), s["moderator"], "Again")
    assert stored_comment_count(s["proposal"]) == 0


def test_restoring_a_published_comment_is_refused_and_counts_nothing(s):
    with pytest.raises(DomainError):
        moderation.restore_comment(s["comment"], s["moderator"])
    assert stored_comment_count(s["proposal"]) == 1


def test_hiding_a_comment_resolves_its_reports_as_actioned(s, factory):
    factory.report(factory.user(), comment=s["comment"])
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    assert [r.state for r in all_reports()] == [ReportState.ACTIONED]


def test_citizen_cannot_hide_a_comment(s):
    with pytest.raises(NotAllowed):
        moderation.hide_comment(s["comment"], s["citizen"], "Advertising")
    assert stored_comment_count(s["proposal"]) == 1


# Dismissing


def test_dismissing_keeps_the_content(s, factory):
    report = attached(Report, factory.report(factory.user(), proposal=s["proposal"]))
    moderation.dismiss_report(report, s["moderator"])
    db.session.expire_all()
    assert (attached(Proposal, s["proposal"]).state, attached(Report, report).state) == (
        ProposalState.PUBLISHED,
        ReportState.DISMISSED,
    )


def test_dismissing_handles_every_open_report_of_the_subject(s, factory):
    first = attached(Report, factory.report(factory.user(), comment=s["comment"]))
    factory.report(factory.user(), comment=s["comment"])
    factory.report(factory.user(), proposal=s["proposal"])
    assert moderation.dismiss_report(first, s["moderator"]) == 2
    assert [r.state for r in all_reports()] == [
        ReportState.DISMISSED,
        ReportState.DISMISSED,
        ReportState.OPEN,
    ]


def test_dismissing_a_handled_report_is_refused(s, factory):
    report = factory.report(factory.user(), proposal=s["proposal"], state=ReportState.ACTIONED)
    with pytest.raises(DomainError):
        moderation.dismiss_report(attached(Report, report), s["moderator"])


def test_citizen_cannot_dismiss_a_report(s, factory):
    report = attached(Report, factory.report(factory.user(), proposal=s["proposal"]))
    with pytest.raises(NotAllowed):
        moderation.dismiss_report(report, s["citizen"])
    assert [r.state for r in all_reports()] == [ReportState.OPEN]


# The audit trail


def _hide_proposal(s, factory):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    return s["proposal"].id


def _restore_proposal(s, factory):
    _hide_proposal(s, factory)
    moderation.restore_proposal(attached(Proposal, s["proposal"]), s["moderator"])
    return s["proposal"].id


def _hide_comment(s, factory):
    moderation.hide_comment(s["comment"], s["moderator"], "Advertising")
    return s["comment"].id


def _restore_comment(s, factory):
    _hide_comment(s, factory)
    moderation.restore_comment(attached(Comment, s["comment"]), s["moderator"])
    return s["comment"].id


def _dismiss(s, factory):
    report = attached(Report, factory.report(factory.user(), proposal=s["proposal"]))
    moderation.dismiss_report(report, s["moderator"])
    return report.id


@pytest.mark.parametrize(
    ("act", "action", "subject_type"),
    [
        (_hide_proposal, "proposal.hidden", "proposal"),
        (_restore_proposal, "proposal.restored", "proposal"),
        (_hide_comment, "comment.hidden", "comment"),
        (_restore_comment, "comment.restored", "comment"),
        (_dismiss, "report.dismissed", "report"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_every_moderator_action_is_an_audit_event_of_the_consultation(
    s, factory, act, action, subject_type
):
    subject_id = act(s, factory)
    [event] = events(action)
    assert (
        event.actor_id,
        event.consultation_id,
        event.subject_type,
        event.subject_id,
        event.details["proposal_id"],
    ) == (s["moderator"].id, s["consultation"].id, subject_type, subject_id, s["proposal"].id)


def test_hiding_event_keeps_the_reason(s):
    moderation.hide_proposal(s["proposal"], s["moderator"], "Advertising")
    [event] = events("proposal.hidden")
    assert event.details["reason"] == "Advertising"


def test_refused_hiding_records_no_event(s):
    with pytest.raises(ValidationFailed):
        moderation.hide_proposal(s["proposal"], s["moderator"], "")
    assert events("proposal.hidden") == []


# Blocking accounts


def test_admin_blocks_a_user(s):
    moderation.block_user(s["admin"], s["citizen"])
    db.session.expire_all()
    assert attached(User, s["citizen"]).is_blocked is True


def test_blocked_user_cannot_authenticate(s):
    moderation.block_user(s["admin"], s["citizen"])
    assert accounts.authenticate(s["citizen"].email, "correct horse battery") is None


def test_blocked_users_content_stays_published(s):
    moderation.block_user(s["admin"], s["author"])
    assert listed(s["consultation"]) == [s["proposal"].id]


def test_moderator_cannot_block(s):
    with pytest.raises(NotAllowed):
        moderation.block_user(s["moderator"], s["citizen"])
    db.session.expire_all()
    assert attached(User, s["citizen"]).is_blocked is False


def test_admin_cannot_block_themselves(s):
    with pytest.raises(DomainError):
        moderation.block_user(s["admin"], s["admin"])
    db.session.expire_all()
    assert attached(User, s["admin"]).is_blocked is False


def test_blocking_a_blocked_user_is_refused(s):
    moderation.block_user(s["admin"], s["citizen"])
    with pytest.raises(DomainError):
        moderation.block_user(s["admin"], attached(User, s["citizen"]))
    assert len(events("user.blocked")) == 1


def test_admin_unblocks_a_user(s):
    moderation.block_user(s["admin"], s["citizen"])
    moderation.unblock_user(s["admin"], attached(User, s["citizen"]))
    db.session.expire_all()
    assert attached(User, s["citizen"]).is_blocked is False


@pytest.mark.parametrize(
    ("change", "action"),
    [("block", "user.blocked"), ("unblock", "user.unblocked")],
)
def test_blocking_and_unblocking_are_audit_events(s, change, action):
    moderation.block_user(s["admin"], s["citizen"])
    if change == "unblock":
        moderation.unblock_user(s["admin"], attached(User, s["citizen"]))
    [event] = events(action)
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        s["admin"].id,
        "user",
        s["citizen"].id,
    )


def test_users_are_found_by_email_or_name(s, factory):
    factory.user(email="anna.schmidt@example.org", display_name="Anna")
    factory.user(email="bert@example.org", display_name="Bert Schmidt")
    factory.user(email="carla@example.org", display_name="Carla")
    found = moderation.find_users("schmidt").items
    assert sorted(user.email for user in found) == [
        "anna.schmidt@example.org",
        "bert@example.org",
    ]
