"""Voting with the code of the town's letter, without an account: every refusal says why and
stores nothing, the same code changes its ballot until voting closes, a code used on paper is
used up, accounts do not vote where the electorate is voting codes, and two first uses of one
code at the same moment leave one ballot (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from flask import Flask
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Consultation,
    Electorate,
    Phase,
    Proposal,
    User,
    VotingCodeState,
    VotingMethod,
)
from participation.services.budgeting import ballots, electorate
from participation.services.budgeting.ballots import BallotRefused
from participation.services.errors import DomainError, NotFound, ValidationFailed
from tests.factories import Factory
from tests.helpers import at_the_same_moment, attached


class CodeVote(NamedTuple):
    """A budget consultation of 1,000 € voting with codes, four projects and one code."""

    consultation: Consultation
    projects: list[Proposal]  # costing 300, 500, 400 and 200
    code: str  # as printed on the letter
    code_id: int


def code_vote(factory: Factory, phase: Phase = Phase.VOTING, **fields) -> CodeVote:
    values = {
        "voting_method": VotingMethod.BUDGET,
        "budget": 1000,
        "electorate": Electorate.VOTING_CODES,
    } | fields
    consultation = factory.consultation(phase=phase, **values)
    author = factory.user()
    projects = [
        factory.proposal(consultation, author, estimated_cost=cost, title=f"Project {cost}")
        for cost in (300, 500, 400, 200)
    ]
    printed, code = factory.voting_code(consultation)
    return CodeVote(consultation, projects, printed, code.id)


@pytest.fixture
def vote(factory: Factory) -> CodeVote:
    return code_vote(factory)


def submit(vote: CodeVote, projects: list, code: str | None = None) -> Ballot:
    ids = [getattr(project, "id", project) for project in projects]
    consultation = attached(Consultation, vote.consultation)
    return ballots.submit_ballot_with_code(consultation, vote.code if code is None else code, ids)


def rows() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Ballot)),
        db.session.scalar(select(func.count()).select_from(BallotChoice)),
    )


def stored(code_id: int) -> tuple[str, set[int], Ballot] | None:
    db.session.expire_all()
    ballot = db.session.scalar(select(Ballot).where(Ballot.voting_code_id == code_id))
    if ballot is None:
        return None
    return ballot.code, {choice.proposal_id for choice in ballot.choices}, ballot


def test_a_code_votes_without_an_account_online(vote, ctx):
    ballot = submit(vote, vote.projects[:2])
    code, chosen, row = stored(vote.code_id)
    assert chosen == {vote.projects[0].id, vote.projects[1].id}
    assert row.user_id is None
    assert row.channel is BallotChannel.ONLINE
    assert code == ballot.code and len(code) == 14  # the ballot code of the receipt


def test_the_code_is_read_as_people_type_it(vote, ctx):
    submit(vote, vote.projects[:1], code=vote.code.replace("-", " ").lower())
    assert stored(vote.code_id) is not None


def test_the_same_code_changes_its_ballot_and_keeps_the_ballot_code(vote, ctx):
    first = submit(vote, vote.projects[:2]).code
    second = submit(vote, vote.projects[3:]).code
    code, chosen, _row = stored(vote.code_id)
    assert (code, chosen) == (first, {vote.projects[3].id})
    assert second == first
    assert rows() == (1, 1)


def test_ballot_for_code_shows_the_current_choices(vote, ctx):
    consultation = attached(Consultation, vote.consultation)
    assert ballots.ballot_for_code(consultation, vote.code) is None
    submit(vote, vote.projects[:2])
    ballot = ballots.ballot_for_code(consultation, vote.code)
    assert ballots.chosen_ids(ballot) == {vote.projects[0].id, vote.projects[1].id}


def test_a_code_cannot_change_its_ballot_once_voting_has_closed(factory, vote, ctx):
    submit(vote, vote.projects[:2])
    with factory.app.app_context():
        db.session.get(Consultation, vote.consultation.id).phase = Phase.EVALUATING
        db.session.commit()
    with pytest.raises(DomainError, match="voting phase"):
        submit(vote, vote.projects[3:])
    assert stored(vote.code_id)[1] == {vote.projects[0].id, vote.projects[1].id}


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.EVALUATING, Phase.CLOSED])
def test_a_code_votes_only_while_voting(factory, ctx, phase):
    vote = code_vote(factory, phase=phase)
    with pytest.raises(DomainError, match="voting phase"):
        submit(vote, vote.projects[:1])
    assert rows() == (0, 0)


def mistyped(code: str) -> str:
    """The code with its first character changed: the check character no longer fits."""
    first = "1" if code[0] != "1" else "2"
    return first + code[1:]


@pytest.mark.parametrize(
    ("typed", "error", "words"),
    [
        (lambda code: "K7QF-M2XD", ValidationFailed, "This is not a voting code"),
        (lambda code: "", ValidationFailed, "This is not a voting code"),
        (mistyped, ValidationFailed, "typo"),
        (lambda code: electorate.generate_code(), NotFound, "There is no such voting code"),
    ],
    ids=["too short", "empty", "typo", "unknown"],
)
def test_a_wrong_code_is_refused_saying_why_and_stores_nothing(vote, ctx, typed, error, words):
    with pytest.raises(error, match=words):
        submit(vote, vote.projects[:1], code=typed(vote.code))
    assert rows() == (0, 0)


def test_a_code_of_another_consultation_is_refused(factory, vote, ctx):
    other = code_vote(factory)
    with pytest.raises(DomainError, match="belongs to another consultation"):
        submit(vote, vote.projects[:1], code=other.code)
    with pytest.raises(DomainError, match="belongs to another consultation"):
        ballots.ballot_for_code(attached(Consultation, vote.consultation), other.code)
    assert rows() == (0, 0)


def test_a_revoked_code_votes_nothing(factory, vote, ctx):
    revoked, _code = factory.voting_code(vote.consultation, state=VotingCodeState.REVOKED)
    with pytest.raises(DomainError, match="revoked"):
        submit(vote, vote.projects[:1], code=revoked)
    assert rows() == (0, 0)


def test_a_code_revoked_after_voting_cannot_change_its_ballot(factory, vote, ctx):
    submit(vote, vote.projects[:1])
    with factory.app.app_context():
        code = db.session.get(electorate.VotingCode, vote.code_id)
        code.state = VotingCodeState.REVOKED
        db.session.commit()
    with pytest.raises(DomainError, match="revoked"):
        submit(vote, vote.projects[3:])
    assert stored(vote.code_id)[1] == {vote.projects[0].id}


def test_a_code_used_on_paper_is_refused_online(factory, vote, ctx):
    factory.ballot(
        vote.consultation,
        None,
        vote.projects[2:3],
        voting_code_id=vote.code_id,
        channel=BallotChannel.PAPER,
    )
    with pytest.raises(DomainError, match="already used on a paper ballot"):
        submit(vote, vote.projects[:1])
    with pytest.raises(DomainError, match="already used on a paper ballot"):
        ballots.ballot_for_code(attached(Consultation, vote.consultation), vote.code)
    _code, chosen, row = stored(vote.code_id)
    assert chosen == {vote.projects[2].id} and row.is_on_paper
    assert rows() == (1, 1)


def test_the_ballot_rules_apply_to_a_code_ballot_and_a_refusal_stores_nothing(vote, ctx):
    with pytest.raises(BallotRefused, match="more than the"):
        submit(vote, vote.projects[:3])  # 1,200 of 1,000
    assert rows() == (0, 0)
    submit(vote, vote.projects[:1])
    with pytest.raises(BallotRefused):
        submit(vote, [])
    assert stored(vote.code_id)[1] == {vote.projects[0].id}


def test_codes_are_refused_where_the_electorate_is_open(factory, ctx):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000
    )
    printed, _code = factory.voting_code(consultation)
    with pytest.raises(DomainError, match="vote with your account"):
        ballots.submit_ballot_with_code(attached(Consultation, consultation), printed, [])
    assert rows() == (0, 0)


def test_a_support_consultation_has_no_code_ballot(factory, ctx):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.SUPPORT, electorate=Electorate.VOTING_CODES
    )
    printed, _code = factory.voting_code(consultation)
    with pytest.raises(NotFound):
        ballots.submit_ballot_with_code(attached(Consultation, consultation), printed, [])


def test_accounts_do_not_vote_where_the_electorate_is_voting_codes(factory, vote, ctx):
    citizen = factory.user()
    with pytest.raises(DomainError, match="voting code from your letter"):
        ballots.submit_ballot(
            attached(Consultation, vote.consultation),
            attached(User, citizen),
            [vote.projects[0].id],
        )
    assert rows() == (0, 0)


def test_votes_with_codes_is_a_budget_consultation_with_voting_codes(factory, vote, ctx):
    assert ballots.votes_with_codes(vote.consultation)
    support = factory.consultation(
        voting_method=VotingMethod.SUPPORT, electorate=Electorate.VOTING_CODES
    )
    assert not ballots.votes_with_codes(support)
    budget = factory.consultation(voting_method=VotingMethod.BUDGET, budget=1000)
    assert not ballots.votes_with_codes(budget)


def test_the_log_line_names_the_ballot_by_its_id_only(vote, ctx, caplog):
    caplog.set_level("INFO")
    ballot = submit(vote, vote.projects[:1])
    lines = [record.getMessage() for record in caplog.records]
    text = " ".join(lines) + " ".join(str(vars(record)) for record in caplog.records)
    assert any("ballot.submitted" in line for line in lines)
    compact = vote.code.replace("-", "")
    assert vote.code not in text and compact not in text and ballot.code not in text


# At the same moment: each thread has its own app context, session and connection


def submit_at_the_same_moment(
    app: Flask, consultation_id: int, code: str, choices: list[list[int]]
) -> list[object]:
    def load(proposal_ids: list[int]) -> tuple:
        return db.session.get(Consultation, consultation_id), proposal_ids

    def act(consultation: Consultation, proposal_ids: list[int]) -> str:
        return ballots.submit_ballot_with_code(consultation, code, proposal_ids).code

    return at_the_same_moment(app, load, act, [(ids,) for ids in choices])


def test_two_first_uses_of_one_code_at_once_leave_one_ballot(app, threaded_app, factory):
    vote = code_vote(factory)
    first = [vote.projects[0].id, vote.projects[3].id]
    second = [vote.projects[1].id]
    for _round in range(4):
        outcomes = submit_at_the_same_moment(
            threaded_app, vote.consultation.id, vote.code, [first, second]
        )
        with app.app_context():
            [ballot] = db.session.scalars(
                select(Ballot).where(Ballot.consultation_id == vote.consultation.id)
            ).all()
            assert ballot.voting_code_id == vote.code_id
            assert {choice.proposal_id for choice in ballot.choices} in (set(first), set(second))
            assert outcomes == [ballot.code, ballot.code]
            db.session.delete(ballot)
            db.session.commit()


def test_many_uses_of_one_code_at_once_leave_one_of_the_ballots(app, threaded_app, factory):
    vote = code_vote(factory)
    ids = [project.id for project in vote.projects]
    choices = [[ids[0]], [ids[1]], [ids[2]], [ids[3]], [ids[0], ids[3]]]
    outcomes = submit_at_the_same_moment(threaded_app, vote.consultation.id, vote.code, choices)
    with app.app_context():
        [ballot] = db.session.scalars(select(Ballot)).all()
        assert {choice.proposal_id for choice in ballot.choices} in [set(c) for c in choices]
        assert set(outcomes) == {ballot.code}
