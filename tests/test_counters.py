"""Stored counters against the rows they count: check_counters(), `flask doctor`, and a random
sequence of supports, withdrawals, comments and deletions after which every counter is true."""

from __future__ import annotations

import random

import pytest
from flask import Flask
from sqlalchemy import event, select, update

from participation.extensions import db
from participation.models import Comment, CommentState, Phase, Proposal, User
from participation.services import comments, votes
from participation.services.counters import CounterDifference, check_counters
from participation.services.errors import DomainError
from tests.factories import Factory
from tests.test_votes import Voting, open_voting


@pytest.fixture
def vote(factory: Factory) -> Voting:
    return open_voting(factory)


def proposal_in_session(proposal: Proposal) -> Proposal:
    return db.session.get(Proposal, proposal.id)


def user_in_session(user: User) -> User:
    return db.session.get(User, user.id)


def corrupt(proposal_id: int, **counters: int) -> None:
    """Set a counter wrong behind the services' back, as a manual UPDATE would."""
    db.session.execute(update(Proposal).where(Proposal.id == proposal_id).values(**counters))
    db.session.commit()


def stored_counters(proposal_id: int) -> tuple[int, int]:
    db.session.expire_all()
    proposal = db.session.get(Proposal, proposal_id)
    return proposal.support_count, proposal.comment_count


def supported_and_commented(vote: Voting) -> None:
    """One support and two comments through the services; one comment deleted again."""
    proposal = proposal_in_session(vote.proposal)
    citizen = user_in_session(vote.citizen)
    votes.support(proposal, citizen)
    comments.add(proposal, citizen, "Good idea.")
    deleted = comments.add(proposal, citizen, "On second thought …")
    comments.delete(deleted, citizen)


# check_counters


def test_counters_written_by_the_services_have_no_differences(ctx, vote):
    supported_and_commented(vote)
    assert stored_counters(vote.proposal.id) == (1, 1)
    assert check_counters() == []


def test_wrong_support_count_is_found(ctx, vote):
    supported_and_commented(vote)
    corrupt(vote.proposal.id, support_count=7)
    assert check_counters() == [CounterDifference(vote.proposal.id, "support_count", 7, 1)]


def test_finding_without_repair_leaves_the_counter_as_it_is(ctx, vote):
    corrupt(vote.proposal.id, support_count=7)
    check_counters(repair=False)
    assert stored_counters(vote.proposal.id) == (7, 0)


def test_repair_sets_every_wrong_counter_to_its_rows(ctx, factory, vote):
    supported_and_commented(vote)
    other = factory.proposal(vote.consultation, factory.user())
    corrupt(vote.proposal.id, support_count=0, comment_count=5)
    corrupt(other.id, support_count=3)
    found = check_counters(repair=True)
    assert {(d.proposal_id, d.counter) for d in found} == {
        (vote.proposal.id, "support_count"),
        (vote.proposal.id, "comment_count"),
        (other.id, "support_count"),
    }
    assert (stored_counters(vote.proposal.id), stored_counters(other.id)) == ((1, 1), (0, 0))
    assert check_counters() == []


@pytest.mark.parametrize("state", [CommentState.DELETED, CommentState.HIDDEN])
def test_comment_count_leaves_out_comments_that_are_not_published(ctx, vote, state):
    db.session.add(
        Comment(proposal_id=vote.proposal.id, author_id=vote.citizen.id, body="x", state=state)
    )
    db.session.commit()
    assert check_counters() == []


def count_statements(app: Flask, action) -> int:
    statements: list[str] = []

    def remember(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    return len(statements)


def test_checking_and_repairing_takes_the_same_number_of_queries_for_any_number(
    app, ctx, factory, vote
):
    author = factory.user()
    proposals = [factory.proposal(vote.consultation, author) for _ in range(12)]
    corrupt(proposals[0].id, support_count=2)
    few = count_statements(app, lambda: check_counters(repair=True))
    for proposal in proposals:
        corrupt(proposal.id, support_count=2, comment_count=3)
    many = count_statements(app, lambda: check_counters(repair=True))
    assert few == many


# flask doctor


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def test_doctor_reports_nothing_on_a_clean_database(app, runner, vote):
    with app.app_context():
        supported_and_commented(vote)
    result = runner.invoke(args=["doctor"])
    assert (result.exit_code, result.output) == (0, "All counters are right.\n")


def test_doctor_repairs_a_corrupted_counter_and_says_so(app, runner, vote):
    with app.app_context():
        supported_and_commented(vote)
        corrupt(vote.proposal.id, support_count=9)
    result = runner.invoke(args=["doctor"])
    assert result.exit_code == 1
    assert f"Proposal {vote.proposal.id}: support_count was 9, the rows say 1; repaired." in (
        result.output
    )
    with app.app_context():
        assert stored_counters(vote.proposal.id) == (1, 1)


def test_doctor_is_clean_after_its_repair(app, runner, vote):
    with app.app_context():
        corrupt(vote.proposal.id, comment_count=4)
    runner.invoke(args=["doctor"])
    assert runner.invoke(args=["doctor"]).exit_code == 0


def test_doctor_dry_run_reports_without_repairing(app, runner, vote):
    with app.app_context():
        corrupt(vote.proposal.id, comment_count=4)
    result = runner.invoke(args=["doctor", "--dry-run"])
    assert result.exit_code == 1
    assert "comment_count was 4, the rows say 0; left as it is (dry run)." in result.output
    with app.app_context():
        assert stored_counters(vote.proposal.id) == (0, 4)


# A random sequence of everything that changes a counter


def test_counters_equal_their_rows_after_a_random_sequence(ctx, factory):
    vote = open_voting(factory, phase=Phase.VOTING, max_supports=3)
    author = factory.user()
    proposal_ids = [vote.proposal.id] + [
        factory.proposal(vote.consultation, author).id for _ in range(4)
    ]
    citizen_ids = [vote.citizen.id] + [factory.user().id for _ in range(4)]
    chance = random.Random(20270301)
    written: list[int] = []
    done = {"support": 0, "withdraw": 0, "comment": 0, "reply": 0, "delete": 0, "refused": 0}
    for _ in range(200):
        proposal = db.session.get(Proposal, chance.choice(proposal_ids))
        citizen = db.session.get(User, chance.choice(citizen_ids))
        step = chance.choice(["support", "support", "withdraw", "comment", "reply", "delete"])
        if step in ("reply", "delete") and not written:
            step = "comment"
        try:
            if step == "support":
                votes.support(proposal, citizen)
            elif step == "withdraw":
                votes.withdraw_support(proposal, citizen)
            elif step == "comment":
                written.append(comments.add(proposal, citizen, "A thought.").id)
            elif step == "reply":
                parent = db.session.get(Comment, chance.choice(written))
                written.append(comments.add(parent.proposal, citizen, "Yes.", parent).id)
            else:
                comment = db.session.get(Comment, chance.choice(written))
                comments.delete(comment, comment.author)
            done[step] += 1
        except DomainError:  # the cap, a deleted comment: refused and rolled back
            done["refused"] += 1
    assert check_counters() == []
    assert min(done.values()) > 0, done
    assert db.session.scalar(select(db.func.sum(Proposal.support_count))) > 0
