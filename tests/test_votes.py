"""The voting service: supports of proposals, their withdrawal, the cap, and the one-support rule,
also when requests arrive at the same moment."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.models import (
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    Support,
    User,
    VotingMethod,
)
from participation.services import consultations, votes
from participation.services.consultations import ConsultationSettings
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from participation.services.votes import SupportState
from tests.factories import Factory
from tests.helpers import at_the_same_moment, attached


class Voting(NamedTuple):
    """A support consultation in its voting phase, a published proposal and a citizen."""

    consultation: Consultation
    proposal: Proposal
    citizen: User


def open_voting(factory: Factory, phase: Phase = Phase.VOTING, **consultation_fields) -> Voting:
    consultation = factory.consultation(phase=phase, **consultation_fields)
    proposal = factory.proposal(consultation, factory.user())
    return Voting(consultation, proposal, factory.user())


@pytest.fixture
def vote(factory: Factory) -> Voting:
    return open_voting(factory)


def support(proposal: Proposal, citizen: User) -> SupportState:
    return votes.support(attached(Proposal, proposal), attached(User, citizen))


def withdraw(proposal: Proposal, citizen: User) -> SupportState:
    return votes.withdraw_support(attached(Proposal, proposal), attached(User, citizen))


def support_rows(proposal_id: int) -> int:
    return db.session.scalar(
        select(func.count()).select_from(Support).where(Support.proposal_id == proposal_id)
    )


def stored_count(proposal_id: int) -> int:
    db.session.expire_all()
    return db.session.get(Proposal, proposal_id).support_count


# Supporting


def test_citizen_supports_a_published_proposal(ctx, vote):
    state = support(vote.proposal, vote.citizen)
    assert (state.supported, state.count, state.remaining) == (True, 1, None)
    assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)


def test_supporting_twice_keeps_one_support(ctx, vote):
    support(vote.proposal, vote.citizen)
    again = support(vote.proposal, vote.citizen)
    assert (again.supported, again.count) == (True, 1)
    assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)


def test_supports_of_several_citizens_add_up(ctx, factory, vote):
    support(vote.proposal, vote.citizen)
    state = support(vote.proposal, factory.user())
    assert (state.count, support_rows(vote.proposal.id)) == (2, 2)


def test_database_refuses_a_second_row_for_the_same_citizen_and_proposal(ctx, vote):
    for _ in range(2):
        db.session.add(
            Support(
                proposal_id=vote.proposal.id,
                consultation_id=vote.consultation.id,
                user_id=vote.citizen.id,
            )
        )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert support_rows(vote.proposal.id) == 0


# Refusals: nothing is stored, the citizen is told why


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.EVALUATING, Phase.CLOSED])
def test_support_is_refused_outside_the_voting_phase(ctx, factory, phase):
    vote = open_voting(factory, phase=phase)
    with pytest.raises(DomainError, match="only be supported while the consultation is in the"):
        support(vote.proposal, vote.citizen)
    assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (0, 0)


def test_support_is_refused_in_a_budget_consultation(ctx, factory):
    vote = open_voting(factory, voting_method=VotingMethod.BUDGET, budget=10_000)
    with pytest.raises(DomainError, match="budget ballot"):
        support(vote.proposal, vote.citizen)
    assert support_rows(vote.proposal.id) == 0


@pytest.mark.parametrize("state", [ProposalState.HIDDEN, ProposalState.WITHDRAWN])
def test_support_is_refused_on_a_proposal_that_is_not_published(ctx, factory, vote, state):
    proposal = factory.proposal(vote.consultation, factory.user(), state=state)
    with pytest.raises(DomainError, match="withdrawn or hidden proposal cannot be supported"):
        support(proposal, vote.citizen)
    assert support_rows(proposal.id) == 0


@pytest.mark.parametrize("visitor", [None, AnonymousUserMixin()], ids=["none", "anonymous"])
def test_visitor_cannot_support(ctx, vote, visitor):
    with pytest.raises(NotAllowed):
        votes.support(attached(Proposal, vote.proposal), visitor)
    assert support_rows(vote.proposal.id) == 0


def test_blocked_citizen_cannot_support(ctx, factory, vote):
    blocked = factory.user(is_blocked=True)
    with pytest.raises(NotAllowed, match="blocked"):
        support(vote.proposal, blocked)
    assert support_rows(vote.proposal.id) == 0


# Withdrawing


def test_withdrawing_removes_the_support_and_lowers_the_count(ctx, factory, vote):
    support(vote.proposal, factory.user())
    support(vote.proposal, vote.citizen)
    state = withdraw(vote.proposal, vote.citizen)
    assert (state.supported, state.count) == (False, 1)
    assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)


def test_withdrawing_a_support_that_does_not_exist_changes_nothing(ctx, factory, vote):
    support(vote.proposal, factory.user())
    state = withdraw(vote.proposal, vote.citizen)
    assert (state.supported, state.count, stored_count(vote.proposal.id)) == (False, 1, 1)


@pytest.mark.parametrize("phase", [Phase.EVALUATING, Phase.CLOSED])
def test_withdrawing_is_refused_once_voting_has_ended(ctx, vote, phase):
    support(vote.proposal, vote.citizen)
    attached(Consultation, vote.consultation).phase = phase
    db.session.commit()
    with pytest.raises(DomainError, match="only be withdrawn while the consultation is in the"):
        withdraw(vote.proposal, vote.citizen)
    assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)


def test_support_of_a_proposal_hidden_during_voting_can_be_withdrawn(ctx, vote):
    """Otherwise the hidden proposal would keep one of the citizen's capped supports."""
    support(vote.proposal, vote.citizen)
    attached(Proposal, vote.proposal).state = ProposalState.HIDDEN
    db.session.commit()
    assert withdraw(vote.proposal, vote.citizen).supported is False
    assert support_rows(vote.proposal.id) == 0


# The cap: at most N supports per citizen and consultation


@pytest.fixture
def capped(factory: Factory) -> tuple[Voting, list[Proposal]]:
    """A consultation allowing two supports each, with three more proposals."""
    vote = open_voting(factory, max_supports=2)
    author = factory.user()
    return vote, [factory.proposal(vote.consultation, author) for _ in range(3)]


def test_state_tells_how_many_supports_are_left(ctx, capped):
    vote, _ = capped
    state = support(vote.proposal, vote.citizen)
    assert (state.cap, state.used, state.remaining) == (2, 1, 1)


def test_support_beyond_the_cap_is_refused(ctx, capped):
    vote, (first, second, third) = capped
    support(first, vote.citizen)
    support(second, vote.citizen)
    with pytest.raises(DomainError, match="already used all your 2 supports"):
        support(third, vote.citizen)
    assert (support_rows(third.id), stored_count(third.id)) == (0, 0)


def test_supporting_again_at_the_cap_is_still_idempotent(ctx, capped):
    vote, (first, second, _) = capped
    support(first, vote.citizen)
    support(second, vote.citizen)
    assert support(first, vote.citizen).supported is True


def test_withdrawing_frees_a_support_under_the_cap(ctx, capped):
    vote, (first, second, third) = capped
    support(first, vote.citizen)
    support(second, vote.citizen)
    withdraw(first, vote.citizen)
    assert support(third, vote.citizen).remaining == 0
    assert support_rows(third.id) == 1


def test_supports_in_other_consultations_do_not_count_toward_the_cap(ctx, factory, capped):
    vote, (first, second, _) = capped
    elsewhere = open_voting(factory)
    support(elsewhere.proposal, vote.citizen)
    support(first, vote.citizen)
    assert support(second, vote.citizen).remaining == 0


def test_supported_ids_lists_the_citizens_supports_of_one_consultation(ctx, factory, capped):
    vote, (first, second, _) = capped
    support(first, vote.citizen)
    support(second, factory.user())
    support(open_voting(factory).proposal, vote.citizen)
    consultation = attached(Consultation, vote.consultation)
    assert votes.supported_ids(consultation, attached(User, vote.citizen)) == {first.id}


# The cap as a consultation setting


def capped_settings(consultation: Consultation, max_supports: int | None) -> ConsultationSettings:
    return ConsultationSettings(
        title=consultation.title,
        voting_method=consultation.voting_method,
        max_supports=max_supports,
    )


def test_moderator_sets_the_cap_before_voting(ctx, factory):
    consultation = attached(Consultation, factory.consultation(phase=Phase.COLLECTING))
    consultations.update(
        consultation, capped_settings(consultation, 3), attached(User, factory.moderator())
    )
    db.session.expire_all()
    assert attached(Consultation, consultation).max_supports == 3


@pytest.mark.parametrize("bad", [0, -2])
def test_cap_below_one_is_refused(ctx, factory, bad):
    consultation = attached(Consultation, factory.consultation())
    with pytest.raises(ValidationFailed) as refused:
        consultations.update(
            consultation, capped_settings(consultation, bad), attached(User, factory.moderator())
        )
    assert "max_supports" in refused.value.errors


def test_cap_cannot_change_once_voting_has_opened(ctx, factory):
    consultation = attached(Consultation, factory.consultation(phase=Phase.VOTING))
    with pytest.raises(ValidationFailed, match="only be changed before voting opens"):
        consultations.update(
            consultation, capped_settings(consultation, 1), attached(User, factory.moderator())
        )


def test_cap_is_refused_for_budget_voting(ctx, factory):
    consultation = attached(Consultation, factory.consultation(phase=Phase.DRAFT))
    settings = ConsultationSettings(
        title="Budget", voting_method=VotingMethod.BUDGET, budget=1000, max_supports=2
    )
    with pytest.raises(ValidationFailed, match="only applies to the support voting method"):
        consultations.update(consultation, settings, attached(User, factory.moderator()))


# At the same moment: each thread has its own app context, session and connection


Action = Callable[[Proposal, User], SupportState]


def supports_at_the_same_moment(
    app: Flask, attempts: list[tuple[Action, int, int]]
) -> list[object]:
    """Run each (action, proposal id, user id) in its own thread, all released by one barrier;
    return what each returned or raised."""

    def load(action: Action, proposal_id: int, user_id: int) -> tuple:
        proposal = db.session.get(Proposal, proposal_id)
        proposal.consultation  # noqa: B018 - load it before the race starts
        return action, proposal, db.session.get(User, user_id)

    def act(action: Action, proposal: Proposal, user: User) -> SupportState:
        return action(proposal, user)

    return at_the_same_moment(app, load, act, attempts)


def test_same_support_sent_twice_at_once_is_stored_once(app, threaded_app, vote):
    outcomes = supports_at_the_same_moment(
        threaded_app, [(votes.support, vote.proposal.id, vote.citizen.id)] * 2
    )
    with app.app_context():
        assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)
    assert [getattr(outcome, "supported", outcome) for outcome in outcomes] == [True, True]


def test_many_supports_of_one_proposal_at_once_are_all_counted(app, threaded_app, factory, vote):
    citizens = [factory.user() for _ in range(6)]
    supports_at_the_same_moment(
        threaded_app, [(votes.support, vote.proposal.id, citizen.id) for citizen in citizens]
    )
    with app.app_context():
        assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (6, 6)


def test_cap_holds_when_supports_of_different_proposals_arrive_at_once(app, threaded_app, factory):
    vote = open_voting(factory, max_supports=2)
    author = factory.user()
    proposals = [factory.proposal(vote.consultation, author) for _ in range(6)]
    outcomes = supports_at_the_same_moment(
        threaded_app,
        [(votes.support, proposal.id, vote.citizen.id) for proposal in proposals],
    )
    with app.app_context():
        rows = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.user_id == vote.citizen.id)
        )
        counted = sum(stored_count(proposal.id) for proposal in proposals)
    refused = [outcome for outcome in outcomes if isinstance(outcome, DomainError)]
    assert (rows, counted, len(refused)) == (2, 2, 4)


def support_in_context(app: Flask, proposal: Proposal, citizen: User) -> None:
    with app.app_context():
        support(proposal, citizen)


def test_support_and_withdrawal_at_once_leave_a_true_count(app, threaded_app, factory, vote):
    support_in_context(app, vote.proposal, vote.citizen)
    other = factory.user()
    supports_at_the_same_moment(
        threaded_app,
        [
            (votes.withdraw_support, vote.proposal.id, vote.citizen.id),
            (votes.support, vote.proposal.id, other.id),
        ],
    )
    with app.app_context():
        assert (support_rows(vote.proposal.id), stored_count(vote.proposal.id)) == (1, 1)
