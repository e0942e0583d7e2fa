"""The comments service: writing, replying, editing, deleting, the counter and the thread."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from flask_babel import force_locale
from flask_login import AnonymousUserMixin
from sqlalchemy import event

from participation.extensions import db
from participation.models import Comment, CommentState, Phase, Proposal, ProposalState, User
from participation.services import comments
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from tests.conftest import START
from tests.helpers import attached

OPEN_PHASES = [Phase.COLLECTING, Phase.VOTING, Phase.EVALUATING]


def in_english(message) -> str:
    with force_locale("en"):
        return str(message)


def published_rows(proposal: Proposal) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Comment)
        .where(Comment.proposal_id == proposal.id, Comment.state == CommentState.PUBLISHED)
    )


def stored_count(proposal: Proposal) -> int:
    db.session.expire_all()
    return db.session.get(Proposal, proposal.id).comment_count


def all_comments() -> list[Comment]:
    return list(db.session.scalars(db.select(Comment).order_by(Comment.id)))


@pytest.fixture
def discussion(factory):
    """A proposal open for comments in a consultation that is collecting, and two citizens."""

    def make(phase: Phase = Phase.COLLECTING, state: ProposalState = ProposalState.PUBLISHED):
        consultation = factory.consultation(phase=phase)
        proposal = factory.proposal(consultation, factory.user(), state=state)
        return proposal, factory.user(), factory.user()

    return make


def setup(discussion, **options) -> tuple[Proposal, User, User]:
    proposal, author, other = discussion(**options)
    return attached(Proposal, proposal), attached(User, author), attached(User, other)


# Writing


@pytest.mark.parametrize("phase", OPEN_PHASES)
def test_citizen_comments_while_the_consultation_is_open(discussion, ctx, phase):
    proposal, author, _ = setup(discussion, phase=phase)
    comments.add(proposal, author, "  Good idea!\nI agree.  ")
    [stored] = all_comments()
    assert (stored.author_id, stored.proposal_id, stored.parent_id, stored.body) == (
        author.id,
        proposal.id,
        None,
        "Good idea!\nI agree.",
    )


def test_comment_counts_on_the_proposal(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comments.add(proposal, author, "First")
    comments.add(proposal, author, "Second")
    assert stored_count(proposal) == 2


def test_reply_is_attached_to_the_comment(discussion, ctx):
    proposal, author, other = setup(discussion)
    top = comments.add(proposal, author, "Top")
    reply = comments.add(proposal, other, "Reply", reply_to=top)
    assert reply.parent_id == top.id


def test_reply_to_a_reply_is_attached_to_the_top_level_comment(discussion, ctx):
    proposal, author, other = setup(discussion)
    top = comments.add(proposal, author, "Top")
    reply = comments.add(proposal, other, "Reply", reply_to=top)
    answer = comments.add(proposal, author, "Answer to the reply", reply_to=reply)
    assert answer.parent_id == top.id


def test_reply_to_a_comment_of_another_proposal_is_not_found(discussion, ctx):
    proposal, author, _ = setup(discussion)
    elsewhere, other, _ = setup(discussion)
    foreign = comments.add(elsewhere, other, "Elsewhere")
    with pytest.raises(NotFound):
        comments.add(proposal, author, "Reply", reply_to=foreign)
    assert len(all_comments()) == 1


def test_reply_to_a_deleted_comment_is_refused(discussion, ctx):
    proposal, author, other = setup(discussion)
    top = comments.add(proposal, author, "Top")
    comments.delete(top, author)
    with pytest.raises(DomainError):
        comments.add(proposal, other, "Reply", reply_to=top)
    assert len(all_comments()) == 1


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.CLOSED])
def test_comment_is_refused_outside_the_open_phases(discussion, ctx, phase):
    proposal, author, _ = setup(discussion, phase=phase)
    with pytest.raises(DomainError) as refused:
        comments.add(proposal, author, "Too early or too late")
    assert "not open" in in_english(refused.value.message)
    assert all_comments() == []
    assert stored_count(proposal) == 0


@pytest.mark.parametrize("state", [ProposalState.WITHDRAWN, ProposalState.HIDDEN])
def test_comment_is_refused_on_a_proposal_that_is_not_published(discussion, ctx, state):
    proposal, author, _ = setup(discussion, state=state)
    with pytest.raises(DomainError) as refused:
        comments.add(proposal, author, "Hello")
    assert "withdrawn or hidden" in in_english(refused.value.message)
    assert all_comments() == []


@pytest.mark.parametrize("visitor", [None, AnonymousUserMixin()])
def test_visitor_cannot_comment(discussion, ctx, visitor):
    proposal, _, _ = setup(discussion)
    with pytest.raises(NotAllowed):
        comments.add(proposal, visitor, "Anonymous")
    assert all_comments() == []


def test_blocked_user_cannot_comment(discussion, ctx):
    proposal, author, _ = setup(discussion)
    author.is_blocked = True
    db.session.commit()
    with pytest.raises(NotAllowed):
        comments.add(proposal, author, "Still here")
    assert all_comments() == []


@pytest.mark.parametrize("body", ["", "   \n\t ", None])
def test_empty_comment_is_refused_next_to_the_field(discussion, ctx, body):
    proposal, author, _ = setup(discussion)
    with pytest.raises(ValidationFailed) as refused:
        comments.add(proposal, author, body)
    assert refused.value.field == "body"
    assert all_comments() == []


def test_comment_of_5000_characters_is_accepted(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comments.add(proposal, author, "x" * 5000)
    assert len(all_comments()[0].body) == 5000


def test_comment_of_5001_characters_is_refused(discussion, ctx):
    proposal, author, _ = setup(discussion)
    with pytest.raises(ValidationFailed) as refused:
        comments.add(proposal, author, "x" * 5001)
    assert "at most 5000 characters" in in_english(refused.value.message)
    assert stored_count(proposal) == 0


# Editing


def test_author_edits_within_15_minutes(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Frist", now=START)
    comments.edit(comment, author, " First ", now=START + timedelta(minutes=15))
    db.session.expire_all()
    stored = attached(Comment, comment)
    assert stored.body == "First"
    assert stored.edited_at is not None


def test_edit_after_15_minutes_is_refused_with_a_clear_message(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Frist", now=START)
    with pytest.raises(DomainError) as refused:
        comments.edit(comment, author, "First", now=START + timedelta(minutes=15, seconds=1))
    assert in_english(refused.value.message) == (
        "A comment can only be changed within 15 minutes of writing it."
    )
    db.session.expire_all()
    assert (attached(Comment, comment).body, attached(Comment, comment).edited_at) == (
        "Frist",
        None,
    )


def test_only_the_author_edits(discussion, ctx):
    proposal, author, other = setup(discussion)
    comment = comments.add(proposal, author, "Mine", now=START)
    with pytest.raises(NotAllowed):
        comments.edit(comment, other, "Yours now", now=START)
    db.session.expire_all()
    assert attached(Comment, comment).body == "Mine"


def test_edit_to_an_empty_text_is_refused(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Mine", now=START)
    with pytest.raises(ValidationFailed):
        comments.edit(comment, author, "  ", now=START)
    db.session.expire_all()
    assert attached(Comment, comment).body == "Mine"


def test_can_edit_says_whether_the_window_is_still_open(discussion, ctx):
    proposal, author, other = setup(discussion)
    comment = comments.add(proposal, author, "Mine", now=START)
    assert [
        comments.can_edit(comment, author, now=START + timedelta(minutes=14)),
        comments.can_edit(comment, author, now=START + timedelta(minutes=16)),
        comments.can_edit(comment, other, now=START),
        comments.can_edit(comment, None, now=START),
    ] == [True, False, False, False]


# Deleting


def test_author_deletes_a_comment_its_text_is_erased(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Oops")
    comments.delete(comment, author)
    db.session.expire_all()
    stored = attached(Comment, comment)
    assert (stored.state, stored.body) == (CommentState.DELETED, "")


def test_deleting_takes_the_comment_out_of_the_count(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comments.add(proposal, author, "Stays")
    comment = comments.add(proposal, author, "Goes")
    comments.delete(comment, author)
    assert stored_count(proposal) == 1


def test_author_deletes_at_any_time_even_after_the_consultation_closed(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Old", now=START)
    proposal.consultation.phase = Phase.CLOSED
    db.session.commit()
    comments.delete(comment, author)
    db.session.expire_all()
    assert attached(Comment, comment).state is CommentState.DELETED


def test_only_the_author_deletes(discussion, ctx):
    proposal, author, other = setup(discussion)
    comment = comments.add(proposal, author, "Mine")
    with pytest.raises(NotAllowed):
        comments.delete(comment, other)
    db.session.expire_all()
    assert (attached(Comment, comment).state, stored_count(proposal)) == (
        CommentState.PUBLISHED,
        1,
    )


def test_deleting_twice_is_refused_and_counts_once(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comment = comments.add(proposal, author, "Once")
    comments.delete(comment, author)
    with pytest.raises(DomainError):
        comments.delete(comment, author)
    assert stored_count(proposal) == 0


def test_a_comment_hidden_by_moderation_cannot_be_deleted_by_its_author(factory, discussion, ctx):
    proposal, author, _ = discussion()
    hidden = factory.comment(proposal, author, state=CommentState.HIDDEN, hidden_reason="Spam")
    with pytest.raises(DomainError):
        comments.delete(attached(Comment, hidden), attached(User, author))
    db.session.expire_all()
    assert attached(Comment, hidden).body != ""


# The counter


def test_counter_equals_published_rows_after_each_action(discussion, ctx):
    proposal, author, other = setup(discussion)
    counts = []

    def check():
        counts.append((stored_count(proposal), published_rows(proposal)))

    first = comments.add(proposal, author, "One", now=START)
    check()
    reply = comments.add(proposal, other, "Two", reply_to=first, now=START)
    check()
    comments.edit(reply, other, "Two, edited", now=START)
    check()
    with pytest.raises(DomainError):
        comments.add(proposal, other, "", reply_to=first)
    check()
    comments.delete(first, author)
    check()
    comments.delete(reply, other)
    check()
    assert counts == [(1, 1), (2, 2), (2, 2), (2, 2), (1, 1), (0, 0)]


def test_counter_equals_published_rows_after_a_random_sequence(factory, discussion, ctx):
    proposal, author, other = setup(discussion)
    citizens = [author, other, attached(User, factory.user())]
    chance = random.Random(20270301)
    written: list[Comment] = []
    mismatches = []
    for step in range(60):
        action = chance.choice(["comment", "reply", "delete", "delete"])
        citizen = chance.choice(citizens)
        try:
            if action == "comment" or not written:
                written.append(comments.add(proposal, citizen, f"Comment {step}"))
            elif action == "reply":
                target = chance.choice(written)
                written.append(comments.add(proposal, citizen, f"Reply {step}", reply_to=target))
            else:
                target = chance.choice(written)
                comments.delete(target, db.session.get(User, target.author_id))
        except DomainError:
            pass  # replies to deleted comments and second deletions are refused
        if stored_count(proposal) != published_rows(proposal):
            mismatches.append(step)
    assert mismatches == []


# The thread


def thread_ids(thread) -> list:
    """[(id, [reply ids]) ...] for top-level entries in the order shown."""
    return [(entry.comment.id, [reply.comment.id for reply in entry.replies]) for entry in thread]


def test_thread_lists_top_level_comments_oldest_first_with_their_replies(discussion, ctx):
    proposal, author, other = setup(discussion)
    later = comments.add(proposal, author, "Later", now=START + timedelta(hours=1))
    earlier = comments.add(proposal, other, "Earlier", now=START)
    second_reply = comments.add(
        proposal, author, "B", reply_to=earlier, now=START + timedelta(hours=3)
    )
    first_reply = comments.add(
        proposal, author, "A", reply_to=earlier, now=START + timedelta(hours=2)
    )
    thread = comments.thread_for(proposal)
    assert thread_ids(thread.entries) == [
        (earlier.id, [first_reply.id, second_reply.id]),
        (later.id, []),
    ]


def test_deleted_comment_with_replies_keeps_its_place_as_a_placeholder(discussion, ctx):
    proposal, author, other = setup(discussion)
    top = comments.add(proposal, author, "Top", now=START)
    reply = comments.add(proposal, other, "Reply", reply_to=top, now=START)
    comments.delete(top, author)
    [entry] = comments.thread_for(proposal).entries
    assert (entry.comment.id, entry.is_deleted, [r.comment.id for r in entry.replies]) == (
        top.id,
        True,
        [reply.id],
    )


def test_deleted_comment_without_replies_is_not_shown(discussion, ctx):
    proposal, author, _ = setup(discussion)
    kept = comments.add(proposal, author, "Kept", now=START)
    gone = comments.add(proposal, author, "Gone", now=START)
    comments.delete(gone, author)
    assert thread_ids(comments.thread_for(proposal).entries) == [(kept.id, [])]


def test_deleted_comment_whose_replies_are_deleted_too_is_not_shown(discussion, ctx):
    proposal, author, other = setup(discussion)
    top = comments.add(proposal, author, "Top", now=START)
    reply = comments.add(proposal, other, "Reply", reply_to=top, now=START)
    comments.delete(reply, other)
    comments.delete(top, author)
    assert comments.thread_for(proposal).entries == []


def test_hidden_comment_with_replies_shows_its_reason(factory, discussion, ctx):
    proposal, author, other = discussion()
    hidden = factory.comment(
        proposal, author, state=CommentState.HIDDEN, hidden_reason="Personal attack"
    )
    factory.comment(proposal, other, parent_id=hidden.id)
    [entry] = comments.thread_for(attached(Proposal, proposal)).entries
    assert (entry.is_hidden, entry.comment.hidden_reason, len(entry.replies)) == (
        True,
        "Personal attack",
        1,
    )


def test_hidden_comment_without_replies_keeps_its_place(factory, discussion, ctx):
    proposal, author, _ = discussion()
    hidden = factory.comment(proposal, author, state=CommentState.HIDDEN, hidden_reason="Spam")
    entries = comments.thread_for(attached(Proposal, proposal)).entries
    assert [(entry.comment.id, entry.is_hidden) for entry in entries] == [(hidden.id, True)]


def test_hidden_reply_keeps_its_place_under_its_comment(factory, discussion, ctx):
    proposal, author, other = discussion()
    top = factory.comment(proposal, author)
    hidden = factory.comment(
        proposal, other, parent_id=top.id, state=CommentState.HIDDEN, hidden_reason="Spam"
    )
    [entry] = comments.thread_for(attached(Proposal, proposal)).entries
    assert [(reply.comment.id, reply.is_hidden) for reply in entry.replies] == [(hidden.id, True)]


def test_deleted_reply_is_not_shown(factory, discussion, ctx):
    proposal, author, other = discussion()
    top = factory.comment(proposal, author)
    factory.comment(proposal, other, parent_id=top.id, state=CommentState.DELETED, body="")
    [entry] = comments.thread_for(attached(Proposal, proposal)).entries
    assert entry.replies == []


def test_only_moderators_may_restore_a_hidden_comment_in_the_thread(
    factory, discussion, moderator, ctx
):
    proposal, author, other = discussion()
    factory.comment(proposal, author, state=CommentState.HIDDEN, hidden_reason="Spam")
    seen = [
        [
            entry.can_restore
            for entry in comments.thread_for(attached(Proposal, proposal), who).entries
        ]
        for who in (None, attached(User, other), attached(User, author), moderator)
    ]
    assert seen == [[False], [False], [False], [True]]


def test_reply_under_a_hidden_comment_cannot_be_answered(factory, discussion, ctx):
    proposal, author, other = discussion()
    hidden = factory.comment(proposal, author, state=CommentState.HIDDEN, hidden_reason="Spam")
    reply = factory.comment(proposal, other, parent_id=hidden.id)
    with pytest.raises(DomainError):
        comments.add(
            attached(Proposal, proposal), attached(User, author), "Hi", attached(Comment, reply)
        )


def test_thread_offers_edit_and_delete_to_the_author_only(discussion, ctx):
    proposal, author, other = setup(discussion)
    comments.add(proposal, author, "Mine", now=START)
    as_author = comments.thread_for(proposal, author, now=START + timedelta(minutes=1))
    as_other = comments.thread_for(proposal, other, now=START + timedelta(minutes=1))
    assert [
        (entry.can_edit, entry.can_delete, entry.can_reply)
        for entry in as_author.entries + as_other.entries
    ] == [(True, True, True), (False, False, True)]


def test_thread_offers_no_edit_after_15_minutes(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comments.add(proposal, author, "Mine", now=START)
    [entry] = comments.thread_for(proposal, author, now=START + timedelta(minutes=16)).entries
    assert (entry.can_edit, entry.can_delete) == (False, True)


def test_thread_offers_nothing_to_write_to_visitors(discussion, ctx):
    proposal, author, _ = setup(discussion)
    comments.add(proposal, author, "Mine")
    thread = comments.thread_for(proposal, None)
    assert (thread.is_open, thread.can_comment, thread.entries[0].can_reply) == (
        True,
        False,
        False,
    )


def test_thread_of_a_closed_consultation_is_not_open(discussion, ctx):
    proposal, author, _ = setup(discussion, phase=Phase.CLOSED)
    thread = comments.thread_for(proposal, author)
    assert (thread.is_open, thread.can_comment) == (False, False)


def count_statements(app, action) -> int:
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return len(statements)


def proposal_with_comments(factory, count: int) -> Proposal:
    """`count` comments by different authors, every third one a reply, one deleted with replies."""
    consultation = factory.consultation(phase=Phase.VOTING)
    proposal = factory.proposal(consultation, factory.user())
    top_level = None
    for number in range(count):
        author = factory.user()
        if number % 3 == 0:
            state = CommentState.DELETED if number == 0 else CommentState.PUBLISHED
            top_level = factory.comment(proposal, author, state=state)
        else:
            factory.comment(proposal, author, parent_id=top_level.id)
    return proposal


def test_thread_takes_the_same_number_of_queries_for_3_and_30_comments(app, factory):
    viewer = factory.user()
    small = proposal_with_comments(factory, 3)
    large = proposal_with_comments(factory, 30)
    counts = []
    for proposal in (small, large):
        with app.app_context():
            loaded = db.session.get(Proposal, proposal.id)
            reader = db.session.get(User, viewer.id)

            def show(loaded=loaded, reader=reader):
                thread = comments.thread_for(loaded, reader)
                for entry in thread.entries:
                    for shown in [entry, *entry.replies]:
                        _ = shown.comment.author.display_name

            counts.append(count_statements(app, show))
    assert counts[0] == counts[1]
