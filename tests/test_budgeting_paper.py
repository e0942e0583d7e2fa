"""Paper ballots entered twice: a sheet counts once two different staff members entered the
same choices, never one entry alone; a mismatch waits for a moderator to discard the wrong
entry; a voting code used online cannot be entered on paper, one used on paper is used up; two
clerks at the same moment store one ballot; every entry and discard is audited."""

from __future__ import annotations

from typing import NamedTuple

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    BallotChannel,
    Consultation,
    Electorate,
    PaperEntry,
    Phase,
    Proposal,
    User,
    VotingCode,
    VotingCodeState,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services.budgeting import ballots, electorate, paper, results
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from tests.factories import Factory
from tests.helpers import at_the_same_moment, attached


class PaperVote(NamedTuple):
    consultation: Consultation
    projects: list[Proposal]  # costing 300, 500, 400 and 200 of 1,000
    clerks: list[User]  # three moderators


def paper_vote(factory: Factory, phase: Phase = Phase.VOTING, **fields) -> PaperVote:
    values = {"voting_method": VotingMethod.BUDGET, "budget": 1000} | fields
    consultation = factory.consultation(phase=phase, **values)
    author = factory.user()
    projects = [
        factory.proposal(consultation, author, estimated_cost=cost, title=f"Project {cost}")
        for cost in (300, 500, 400, 200)
    ]
    clerks = [factory.moderator() for _ in range(3)]
    return PaperVote(consultation, projects, clerks)


@pytest.fixture
def vote(factory: Factory) -> PaperVote:
    return paper_vote(factory)


@pytest.fixture
def coded(factory: Factory) -> PaperVote:
    return paper_vote(factory, electorate=Electorate.VOTING_CODES)


def new_code(consultation: Consultation, **fields) -> tuple[str, int]:
    """A voting code of the consultation in its printed form, and its row's id."""
    text = electorate.generate_code()
    row = VotingCode(
        consultation_id=consultation.id,
        code_hash=electorate.code_hash(electorate.parse_code(text)),
        **fields,
    )
    db.session.add(row)
    db.session.commit()
    return text, row.id


def enter(vote: PaperVote, clerk: int | User, projects, **sheet) -> paper.EntryOutcome:
    user = vote.clerks[clerk] if isinstance(clerk, int) else clerk
    ids = [getattr(project, "id", project) for project in projects]
    if "code_text" not in sheet:
        sheet = {"batch": "A", "sheet": 1} | sheet
    return paper.enter(
        attached(Consultation, vote.consultation), attached(User, user), ids, **sheet
    )


def paper_ballots(consultation: Consultation) -> list[Ballot]:
    db.session.expire_all()
    return list(db.session.scalars(select(Ballot).where(Ballot.consultation_id == consultation.id)))


def entry_count(consultation: Consultation) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(PaperEntry)
        .where(PaperEntry.consultation_id == consultation.id)
    )


# Double entry


def test_a_sheet_counts_only_once_a_second_clerk_entered_the_same_choices(vote, ctx):
    first = enter(vote, 0, vote.projects[:2])
    assert first.waiting and not first.counted
    assert paper_ballots(vote.consultation) == []
    assert paper.overview(attached(Consultation, vote.consultation)).waiting == 1

    second = enter(vote, 1, list(reversed(vote.projects[:2])))
    assert second.counted and not second.mismatch
    [ballot] = paper_ballots(vote.consultation)
    assert ballot.channel is BallotChannel.PAPER and ballot.is_on_paper
    assert ballot.user_id is None and ballot.voting_code_id is None
    assert ballot.code == ballots.normalise_code(ballot.code)
    assert {choice.proposal_id for choice in ballot.choices} == {p.id for p in vote.projects[:2]}
    entries = db.session.scalars(select(PaperEntry).order_by(PaperEntry.id)).all()
    assert [entry.ballot_id for entry in entries] == [ballot.id, ballot.id]
    assert {entry.choice_ids for entry in entries} == {
        ",".join(str(i) for i in sorted(p.id for p in vote.projects[:2]))
    }
    overview = paper.overview(attached(Consultation, vote.consultation))
    assert (overview.entries, overview.counted, overview.waiting, overview.mismatches) == (
        2,
        1,
        0,
        [],
    )
    # The count reads it like any other ballot.
    election, _projects = results.election_for(attached(Consultation, vote.consultation))
    assert len(election.ballots) == 1


def test_a_counted_sheet_takes_no_third_entry(vote, ctx):
    enter(vote, 0, vote.projects[:1])
    enter(vote, 1, vote.projects[:1])
    with pytest.raises(DomainError, match="already been entered twice"):
        enter(vote, 2, vote.projects[:1])
    assert entry_count(vote.consultation) == 2
    assert len(paper_ballots(vote.consultation)) == 1


def test_entries_that_differ_are_a_mismatch_and_never_count(vote, ctx):
    enter(vote, 0, vote.projects[:1])
    outcome = enter(vote, 1, vote.projects[1:2])
    assert outcome.mismatch and not outcome.counted and not outcome.waiting
    assert paper_ballots(vote.consultation) == []
    overview = paper.overview(attached(Consultation, vote.consultation))
    [mismatch] = overview.mismatches
    assert mismatch.sheet == "Batch A, sheet 1"
    assert [[p.id for p in shown.projects] for shown in mismatch.entries] == [
        [vote.projects[0].id],
        [vote.projects[1].id],
    ]
    assert (overview.counted, overview.waiting) == (0, 0)
    # A third clerk cannot settle it by agreeing with one of them: a moderator must decide.
    with pytest.raises(DomainError, match="must first discard"):
        enter(vote, 2, vote.projects[:1])
    assert entry_count(vote.consultation) == 2 and paper_ballots(vote.consultation) == []


def test_discarding_the_wrong_entry_lets_another_clerk_agree(vote, ctx):
    enter(vote, 0, vote.projects[:1])
    wrong = enter(vote, 1, vote.projects[1:2])
    paper.discard(
        attached(Consultation, vote.consultation), attached(User, vote.clerks[2]), wrong.entry_id
    )
    assert db.session.get(PaperEntry, wrong.entry_id) is None
    assert paper_ballots(vote.consultation) == []
    overview = paper.overview(attached(Consultation, vote.consultation))
    assert (overview.waiting, overview.mismatches) == (1, [])
    # The first clerk alone never makes it count; another clerk (here the one whose entry was
    # discarded, entering again) does.
    with pytest.raises(DomainError, match="already entered this sheet"):
        enter(vote, 0, vote.projects[:1])
    assert enter(vote, 1, vote.projects[:1]).counted
    [ballot] = paper_ballots(vote.consultation)
    assert [choice.proposal_id for choice in ballot.choices] == [vote.projects[0].id]
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "paper.discarded")
    ).all()
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        vote.clerks[2].id,
        "paper_entry",
        wrong.entry_id,
    )
    assert event.details["sheet"] == "batch:A:1"


def test_a_counted_entry_cannot_be_discarded(vote, ctx):
    first = enter(vote, 0, vote.projects[:1])
    enter(vote, 1, vote.projects[:1])
    with pytest.raises(DomainError, match="has been counted"):
        paper.discard(
            attached(Consultation, vote.consultation),
            attached(User, vote.clerks[2]),
            first.entry_id,
        )
    assert entry_count(vote.consultation) == 2


def test_discarding_needs_a_moderator_and_an_entry_of_this_consultation(vote, factory, ctx):
    entry = enter(vote, 0, vote.projects[:1])
    other = paper_vote(factory)
    with pytest.raises(NotFound):
        paper.discard(
            attached(Consultation, other.consultation),
            attached(User, vote.clerks[1]),
            entry.entry_id,
        )
    with pytest.raises(NotAllowed):
        paper.discard(
            attached(Consultation, vote.consultation),
            attached(User, factory.user()),
            entry.entry_id,
        )
    assert entry_count(vote.consultation) == 1


def test_the_same_clerk_cannot_enter_a_sheet_twice(vote, ctx):
    enter(vote, 0, vote.projects[:1])
    with pytest.raises(DomainError, match="second entry must be made by another staff member"):
        enter(vote, 0, vote.projects[:1])
    assert entry_count(vote.consultation) == 1 and paper_ballots(vote.consultation) == []


def test_sheets_are_told_apart_by_batch_and_number(vote, ctx):
    enter(vote, 0, vote.projects[:1], batch="A", sheet=1)
    enter(vote, 1, vote.projects[:1], batch="A", sheet=2)
    enter(vote, 1, vote.projects[:1], batch="B", sheet=1)
    assert paper_ballots(vote.consultation) == []
    assert paper.overview(attached(Consultation, vote.consultation)).waiting == 3


# What may be entered


@pytest.mark.parametrize(
    ("sheet", "field"),
    [
        ({"batch": "", "sheet": 1}, "batch"),
        ({"batch": "   ", "sheet": 1}, "batch"),
        ({"batch": "x" * 41, "sheet": 1}, "batch"),
        ({"batch": "A", "sheet": None}, "sheet"),
        ({"batch": "A", "sheet": 0}, "sheet"),
        ({"batch": "A", "sheet": 1_000_001}, "sheet"),
    ],
)
def test_an_open_electorate_names_sheets_by_batch_and_number(vote, ctx, sheet, field):
    with pytest.raises(ValidationFailed) as refused:
        enter(vote, 0, vote.projects[:1], **sheet)
    assert set(refused.value.errors) == {field}
    assert entry_count(vote.consultation) == 0


def test_the_choices_are_checked_like_an_online_ballot(vote, ctx):
    with pytest.raises(ballots.BallotRefused, match="more than the"):
        enter(vote, 0, vote.projects[:3])  # 1,200 of 1,000
    with pytest.raises(ballots.BallotRefused, match="empty"):
        enter(vote, 0, [])
    with pytest.raises(ballots.BallotRefused, match="not on this ballot"):
        enter(vote, 0, [999_999])
    assert entry_count(vote.consultation) == 0


def test_only_staff_enter_paper_ballots(vote, factory, ctx):
    with pytest.raises(NotAllowed):
        enter(vote, factory.user(), vote.projects[:1])
    assert entry_count(vote.consultation) == 0


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.CLOSED])
def test_paper_ballots_are_entered_only_while_voting_or_evaluating(factory, ctx, phase):
    vote = paper_vote(factory, phase=phase)
    with pytest.raises(DomainError, match="only while a budget consultation is voting"):
        enter(vote, 0, vote.projects[:1])
    assert entry_count(vote.consultation) == 0


def test_paper_ballots_are_entered_while_evaluating_until_results_are_published(factory, ctx):
    vote = paper_vote(factory, phase=Phase.EVALUATING)
    enter(vote, 0, vote.projects[:1])
    assert enter(vote, 1, vote.projects[:1]).counted
    consultation = attached(Consultation, vote.consultation)
    consultation.results_published_at = utcnow()
    db.session.commit()
    with pytest.raises(DomainError, match="before its results are published"):
        enter(vote, 0, vote.projects[:1], sheet=2)


def test_a_support_consultation_takes_no_paper_ballots(factory, ctx):
    vote = paper_vote(factory, voting_method=VotingMethod.SUPPORT)
    with pytest.raises(DomainError):
        enter(vote, 0, vote.projects[:1])


def test_a_register_electorate_takes_no_paper_ballots(factory, ctx):
    vote = paper_vote(factory, electorate=Electorate.REGISTER)
    with pytest.raises(DomainError, match="voter register"):
        enter(vote, 0, vote.projects[:1])
    assert entry_count(vote.consultation) == 0
    assert not paper.can_enter(attached(Consultation, vote.consultation), vote.clerks[0])


# Sheets with a voting code


def test_a_coded_sheet_counts_as_a_ballot_that_names_its_code(coded, ctx):
    text, code_id = new_code(coded.consultation)
    enter(coded, 0, coded.projects[:1], code_text=text)
    # Typed differently by the second clerk: lower case, without dashes.
    outcome = enter(coded, 1, coded.projects[:1], code_text=text.replace("-", "").lower())
    assert outcome.counted and outcome.sheet == f"Sheet with voting code no. {code_id}"
    [ballot] = paper_ballots(coded.consultation)
    assert (ballot.voting_code_id, ballot.channel, ballot.user_id) == (
        code_id,
        BallotChannel.PAPER,
        None,
    )
    entries = db.session.scalars(select(PaperEntry)).all()
    assert {(e.sheet_key, e.voting_code_id, e.batch) for e in entries} == {
        (f"code:{code_id}", code_id, None)
    }
    # The code is used up: a third entry is refused, and the database refuses a second
    # ballot with it (which is what keeps it from voting online as well).
    with pytest.raises(DomainError, match="already been used on paper"):
        enter(coded, 2, coded.projects[:1], code_text=text)
    db.session.add(
        Ballot(consultation_id=coded.consultation.id, code="AAAA-BBBB-CCCC", voting_code_id=code_id)
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_a_code_used_online_is_refused_on_paper_with_what_happened(coded, factory, ctx):
    text, code_id = new_code(coded.consultation)
    factory.ballot(coded.consultation, None, coded.projects[:1], voting_code_id=code_id)
    with pytest.raises(DomainError, match=r"already voted online on .*does not count"):
        enter(coded, 0, coded.projects[1:2], code_text=text)
    assert entry_count(coded.consultation) == 0
    assert len(paper_ballots(coded.consultation)) == 1


def test_a_code_used_online_after_the_first_entry_stops_the_second(coded, factory, ctx):
    text, code_id = new_code(coded.consultation)
    enter(coded, 0, coded.projects[:1], code_text=text)
    factory.ballot(coded.consultation, None, coded.projects[1:2], voting_code_id=code_id)
    with pytest.raises(DomainError, match="already voted online"):
        enter(coded, 1, coded.projects[:1], code_text=text)
    [ballot] = paper_ballots(coded.consultation)
    assert ballot.channel is BallotChannel.ONLINE


def test_the_code_refusals_are_shown_at_the_code_field(coded, factory, ctx):
    text, _code_id = new_code(coded.consultation)
    other = paper_vote(factory, electorate=Electorate.VOTING_CODES)
    foreign, _other_id = new_code(other.consultation)
    revoked, _revoked_id = new_code(coded.consultation, state=VotingCodeState.REVOKED)
    typo = text[:-1] + ("0" if text[-1] != "0" else "1")
    unknown = electorate.generate_code()
    for typed, wording in [
        ("", "Please type the voting code"),
        ("nonsense", "not a voting code"),
        (typo, "typo"),
        (unknown, "no such voting code"),
        (foreign, "another consultation"),
        (revoked, "revoked"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            enter(coded, 0, coded.projects[:1], code_text=typed)
        assert set(refused.value.errors) == {"code"}
        assert wording in str(refused.value.errors["code"])
    assert entry_count(coded.consultation) == 0


# The count says how many were on paper


def test_the_budget_result_says_how_many_ballots_were_on_paper(factory, ctx):
    vote = paper_vote(factory, phase=Phase.EVALUATING)
    factory.ballot(vote.consultation, factory.user(), vote.projects[:1])
    for sheet in (1, 2):
        enter(vote, 0, vote.projects[1:2], sheet=sheet)
        enter(vote, 1, vote.projects[1:2], sheet=sheet)
    consultation = attached(Consultation, vote.consultation)
    results.compute(consultation, attached(User, vote.clerks[0]))
    shown = results.view(attached(Consultation, vote.consultation))
    assert (shown.ballot_count, shown.paper_count) == (3, 2)
    # A sheet entered after the count is not in it until the ballots are counted again.
    enter(vote, 0, vote.projects[1:2], sheet=3)
    enter(vote, 1, vote.projects[1:2], sheet=3)
    shown = results.view(attached(Consultation, vote.consultation))
    assert (shown.ballot_count, shown.paper_count) == (3, 2)
    assert results.paper_ballots(attached(Consultation, vote.consultation)) == 3


# Audit


def test_every_entry_is_audited_without_its_choices(vote, ctx):
    enter(vote, 0, vote.projects[:1])
    enter(vote, 1, vote.projects[:1])
    enter(vote, 0, vote.projects[:1], sheet=2)
    enter(vote, 1, vote.projects[1:2], sheet=2)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "paper.entered").order_by(AuditEvent.id)
    ).all()
    assert [(event.actor_id, event.to_value) for event in events] == [
        (vote.clerks[0].id, "waiting"),
        (vote.clerks[1].id, "counted"),
        (vote.clerks[0].id, "waiting"),
        (vote.clerks[1].id, "mismatch"),
    ]
    assert all(event.consultation_id == vote.consultation.id for event in events)
    assert [event.details["sheet"] for event in events] == ["batch:A:1"] * 2 + ["batch:A:2"] * 2
    assert all(set(event.details) == {"sheet", "ballot_id"} for event in events)


def test_a_refused_entry_stores_and_audits_nothing(vote, ctx):
    with pytest.raises(ValidationFailed):
        enter(vote, 0, vote.projects[:1], batch="")
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


# At the same moment


def enter_at_the_same_moment(app, vote: PaperVote, attempts: list[tuple[int, list[int]]]):
    def load(clerk_id: int, ids: list[int]) -> tuple:
        return (
            db.session.get(Consultation, vote.consultation.id),
            db.session.get(User, clerk_id),
            ids,
        )

    def act(consultation: Consultation, clerk: User, ids: list[int]):
        return paper.enter(consultation, clerk, ids, batch="A", sheet=1)

    return at_the_same_moment(app, load, act, attempts)


def test_two_clerks_entering_a_sheet_at_the_same_moment_store_one_ballot(
    app, threaded_app, factory
):
    vote = paper_vote(factory)
    ids = [vote.projects[0].id, vote.projects[3].id]
    for _round in range(4):
        outcomes = enter_at_the_same_moment(
            threaded_app, vote, [(vote.clerks[0].id, ids), (vote.clerks[1].id, ids)]
        )
        assert all(isinstance(outcome, paper.EntryOutcome) for outcome in outcomes), outcomes
        assert sorted(outcome.counted for outcome in outcomes) == [False, True]
        with app.app_context():
            [ballot] = db.session.scalars(select(Ballot)).all()
            assert {choice.proposal_id for choice in ballot.choices} == set(ids)
            entries = db.session.scalars(select(PaperEntry)).all()
            assert [entry.ballot_id for entry in entries] == [ballot.id, ballot.id]
            for entry in entries:
                db.session.delete(entry)
            db.session.delete(ballot)
            db.session.commit()


def test_one_clerk_entering_a_sheet_twice_at_the_same_moment_stores_one_entry(
    app, threaded_app, factory
):
    vote = paper_vote(factory)
    ids = [vote.projects[0].id]
    outcomes = enter_at_the_same_moment(
        threaded_app, vote, [(vote.clerks[0].id, ids), (vote.clerks[0].id, ids)]
    )
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert len(refused) == 1 and "already entered this sheet" in str(refused[0].message)
    with app.app_context():
        assert entry_count(vote.consultation) == 1
        assert db.session.scalars(select(Ballot)).all() == []
