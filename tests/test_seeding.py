"""The demo data: loads into an empty database, twice without duplicates, and keeps the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    BallotChoice,
    Comment,
    CommentState,
    Consultation,
    Initiative,
    InitiativeUpdate,
    PaperEntry,
    Phase,
    Proposal,
    Support,
    Tally,
    TallyRule,
    User,
    VotingCode,
    VotingMethod,
)
from participation.services import budgeting, seeding
from participation.services.budgeting import ballots, tally

DEMO = Path(__file__).resolve().parent.parent / "seeds" / "demo.yaml"
COUNTED = (
    User,
    Consultation,
    Proposal,
    Support,
    Comment,
    Initiative,
    InitiativeUpdate,
    Ballot,
    BallotChoice,
    Tally,
    VotingCode,
)


@pytest.fixture
def seeded(ctx):
    seeding.load_file(DEMO)


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def test_loading_the_demo_twice_adds_nothing_the_second_time(seeded):
    before = _counts()
    report = seeding.load_file(DEMO)
    assert _counts() == before
    assert set(report.created.values()) == {0}


def test_the_demo_has_every_kind_of_content(seeded):
    assert all(count > 0 for count in _counts().values())


def test_every_phase_is_in_the_demo(seeded):
    phases = set(db.session.scalars(select(Consultation.phase)))
    assert phases == set(Phase)


def test_seeded_counters_equal_the_rows_they_count(seeded):
    for proposal in db.session.scalars(select(Proposal)):
        supports = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.proposal_id == proposal.id)
        )
        comments = db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.proposal_id == proposal.id, Comment.state == CommentState.PUBLISHED)
        )
        assert (proposal.support_count, proposal.comment_count) == (supports, comments)


def test_seeded_supports_respect_the_cap_of_their_consultation(seeded):
    per_citizen = db.session.execute(
        select(Consultation.max_supports, func.count(Support.id))
        .join(Support, Support.consultation_id == Consultation.id)
        .where(Consultation.max_supports.is_not(None))
        .group_by(Consultation.id, Consultation.max_supports, Support.user_id)
    ).all()
    assert per_citizen
    assert all(count <= cap for cap, count in per_citizen)


def test_the_closed_demo_consultation_has_published_results_and_initiatives(seeded):
    closed = db.session.scalar(select(Consultation).where(Consultation.phase == Phase.CLOSED))
    assert closed.results_published_at is not None
    initiatives = db.session.scalar(
        select(func.count()).select_from(Initiative).where(Initiative.consultation_id == closed.id)
    )
    assert initiatives >= 2


def test_generated_residents_cannot_log_in(seeded):
    from participation.services import accounts

    assert accounts.authenticate("einwohner1@example.org", "") is None
    assert accounts.authenticate("einwohner1@example.org", seeding.UNUSABLE_PASSWORD_HASH) is None


def _budget_consultation(phase: Phase) -> Consultation:
    return db.session.scalar(
        select(Consultation).where(
            Consultation.voting_method == VotingMethod.BUDGET, Consultation.phase == phase
        )
    )


def test_the_demo_has_a_budget_consultation_open_for_ballots(seeded):
    voting = _budget_consultation(Phase.VOTING)
    election, _ = budgeting.results.election_for(voting)
    assert 8 <= len(election.costs) <= 12
    assert len(election.ballots) > 0


def test_seeded_ballots_fit_the_budget_of_their_consultation(seeded):
    totals = db.session.execute(
        select(Consultation.budget, func.sum(Proposal.estimated_cost))
        .join(Ballot, Ballot.consultation_id == Consultation.id)
        .join(BallotChoice, BallotChoice.ballot_id == Ballot.id)
        .join(Proposal, Proposal.id == BallotChoice.proposal_id)
        .group_by(Ballot.id, Consultation.budget)
    ).all()
    assert totals
    assert all(spent <= budget for budget, spent in totals)


def test_the_closed_budget_consultation_has_published_equal_shares_results(seeded):
    closed = _budget_consultation(Phase.CLOSED)
    result = budgeting.results.view(closed)
    assert closed.results_published_at is not None
    # 320 generated residents online and 8 sheets entered twice on paper.
    assert (result.rule, result.ballot_count, result.paper_count) == (
        TallyRule.EQUAL_SHARES,
        328,
        8,
    )


def test_the_seeded_result_is_what_the_rule_gives_on_the_seeded_ballots(seeded):
    closed = _budget_consultation(Phase.CLOSED)
    election, _ = budgeting.results.election_for(closed)
    expected = tally.count(election, TallyRule.EQUAL_SHARES)
    funded = [row for row in budgeting.results.view(closed).rows if row.funded_by_rule]
    assert sorted(str(row.proposal.id) for row in funded) == sorted(expected.funded)


def test_in_the_closed_budget_consultation_equal_shares_and_greedy_differ(seeded):
    result = budgeting.results.view(_budget_consultation(Phase.CLOSED))
    assert result.only_by_rule and result.only_by_comparison


def test_every_funded_project_of_the_closed_budget_consultation_is_an_initiative(seeded):
    closed = _budget_consultation(Phase.CLOSED)
    initiatives = {
        initiative.proposal_id: initiative.allocated_budget
        for initiative in db.session.scalars(
            select(Initiative).where(Initiative.consultation_id == closed.id)
        )
    }
    funded = budgeting.results.view(closed).funded_rows
    assert initiatives == {row.proposal.id: row.cost for row in funded}


def test_the_demo_offers_a_ballot_code_of_its_published_budget_to_look_up(seeded):
    [(title, code)] = seeding.ballot_codes_to_try()
    closed = db.session.scalar(select(Consultation).where(Consultation.title == title))
    found = ballots.find_by_code(closed, code)
    assert (closed.has_published_results, found.code) == (True, code)


def test_the_budget_consultation_in_voting_votes_with_codes_and_offers_two_that_work(ctx):
    report = seeding.load_file(DEMO)
    offered = seeding.voting_codes_to_try(report)
    voting = _budget_consultation(Phase.VOTING)
    assert voting.uses_voting_codes
    assert [title for title, _code in offered] == [voting.title, voting.title]
    ballots_before = db.session.scalar(select(func.count()).select_from(Ballot))
    assert db.session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.user_id.is_not(None),
                                                        Ballot.consultation_id == voting.id)
    ) == 0  # fmt: skip
    projects = ballots.ballot_projects(voting)
    for _title, code in offered:
        assert ballots.ballot_for_code(voting, code) is None  # unused so far
        ballot = ballots.submit_ballot_with_code(voting, code, [projects[0].id])
        assert ballot.voting_code_id is not None and ballot.user_id is None
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == ballots_before + 2


def test_the_seeded_voting_codes_are_stored_by_their_keyed_hash_only(ctx):
    report = seeding.load_file(DEMO)
    printed = [code for _slug, code in report.voting_codes]
    assert len(printed) == 5
    stored = " ".join(db.session.scalars(select(VotingCode.code_hash)))
    for code in printed:
        random = code.replace("-", "")[:-1]
        assert code not in stored and random not in stored and code.replace("-", "") not in stored
    assert report.created["voting_codes"] == 5 + db.session.scalar(
        select(func.count()).select_from(Ballot).where(Ballot.voting_code_id.is_not(None))
    )


def test_the_demo_paper_ballots_were_entered_twice_by_two_staff_members(seeded):
    closed = _budget_consultation(Phase.CLOSED)
    entries = db.session.scalars(
        select(PaperEntry).where(PaperEntry.consultation_id == closed.id)
    ).all()
    assert len(entries) == 16 and all(entry.ballot_id is not None for entry in entries)
    by_ballot: dict[int, set[int]] = {}
    for entry in entries:
        by_ballot.setdefault(entry.ballot_id, set()).add(entry.entered_by_id)
    assert len(by_ballot) == 8 and all(len(clerks) == 2 for clerks in by_ballot.values())
    paper = db.session.scalars(
        select(Ballot).where(Ballot.consultation_id == closed.id, Ballot.id.in_(by_ballot))
    ).all()
    assert all(ballot.is_on_paper and ballot.user_id is None for ballot in paper)


def test_the_demo_voter_register_is_offered_and_claims_as_a_resident_would(seeded, factory):
    from datetime import date

    from participation.models import Electorate, RegisterEntry
    from participation.services.errors import ValidationFailed

    collecting = db.session.scalar(
        select(Consultation).where(Consultation.electorate == Electorate.REGISTER)
    )
    assert collecting is not None and collecting.min_voting_age == 16
    report = seeding.load_file(DEMO)  # loading again imports nothing twice, and offers the entries
    assert report.created["register_entries"] == 0
    offered = {identifier: born for _title, identifier, born in report.register_entries}
    assert set(offered) == {"DEMO-1001", "DEMO-1002", "DEMO-1003"}
    hashes = " ".join(db.session.scalars(select(RegisterEntry.entry_hash)))
    assert "DEMO" not in hashes and "1990" not in hashes
    anna = factory.user(email="register-demo@example.org")
    entry = budgeting.electorate.claim_entry(
        collecting, anna, "demo-1001", date.fromisoformat(offered["DEMO-1001"])
    )
    assert entry.claimed_by_id == anna.id
    too_young = factory.user(email="register-young@example.org")
    with pytest.raises(ValidationFailed):  # 15 on the day voting opens
        budgeting.electorate.claim_entry(
            collecting, too_young, "DEMO-1002", date.fromisoformat(offered["DEMO-1002"])
        )
