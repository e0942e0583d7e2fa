"""Counting a budget consultation's stored ballots: the election, the tally, overrides, closing
and promoting the funded projects."""

from __future__ import annotations

import math

import pytest

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Consultation,
    Initiative,
    Override,
    Phase,
    Proposal,
    ProposalState,
    Tally,
    TallyEntry,
    TallyRule,
)
from participation.services import budgeting, initiatives
from participation.services.budgeting import tally
from participation.services.consultations import phases
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from tests.budget_data import budget_consultation, majority_and_minority_election
from tests.helpers import attached, selected_ids

REASON = "The two playgrounds cannot be built on the same site."


@pytest.fixture
def majority_and_minority(factory, ctx):
    """The election of tests.budget_data.majority_and_minority_election, attached."""
    consultation, projects = majority_and_minority_election(factory)
    return attached(Consultation, consultation), {
        name: attached(Proposal, p) for name, p in projects.items()
    }


def entries(consultation) -> dict[int, TallyEntry]:
    record = budgeting.results.tally_of(consultation)
    return {entry.proposal_id: entry for entry in record.entries}


def funded_by_rule(consultation) -> set[int]:
    return {pid for pid, entry in entries(consultation).items() if entry.funded_by_rule}


def actions(consultation) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.consultation_id == consultation.id)
            .order_by(AuditEvent.id)
        )
    )


# The election built from the database


def test_election_has_the_published_projects_with_their_costs(factory, ctx):
    consultation, projects = budget_consultation(factory, {"A": 60, "B": 40})
    author = factory.user()
    factory.proposal(consultation, author, estimated_cost=10, state=ProposalState.HIDDEN)
    factory.proposal(consultation, author, estimated_cost=None)
    election, proposals = budgeting.results.election_for(attached(Consultation, consultation))
    assert dict(election.costs) == {str(projects["A"].id): 60, str(projects["B"].id): 40}
    assert [p.id for p in proposals] == [projects["A"].id, projects["B"].id]


def test_election_drops_the_choices_of_hidden_and_withdrawn_proposals(factory, ctx):
    consultation, projects = budget_consultation(factory, {"A": 60, "B": 40})
    author = factory.user()
    hidden = factory.proposal(consultation, author, estimated_cost=10)
    withdrawn = factory.proposal(consultation, author, estimated_cost=10)
    factory.ballot(consultation, None, [projects["A"], hidden, withdrawn])
    attached(Proposal, hidden).state = ProposalState.HIDDEN
    attached(Proposal, withdrawn).state = ProposalState.WITHDRAWN
    db.session.commit()
    election, _ = budgeting.results.election_for(attached(Consultation, consultation))
    assert election.ballots == (frozenset({str(projects["A"].id)}),)


def test_election_counts_empty_ballots_as_voters(factory, ctx):
    consultation, projects = budget_consultation(factory, {"A": 60})
    hidden = factory.proposal(consultation, factory.user(), estimated_cost=10)
    factory.ballot(consultation, None, [projects["A"]])
    factory.ballot(consultation, None, [])
    factory.ballot(consultation, None, [hidden])
    attached(Proposal, hidden).state = ProposalState.HIDDEN
    db.session.commit()
    election, _ = budgeting.results.election_for(attached(Consultation, consultation))
    assert sorted(len(ballot) for ballot in election.ballots) == [0, 0, 1]


def test_election_leaves_out_the_ballots_of_other_consultations(factory, ctx):
    consultation, projects = budget_consultation(factory, {"A": 60})
    other, other_projects = budget_consultation(factory, {"X": 10})
    factory.ballot(consultation, None, [projects["A"]])
    factory.ballot(other, None, [other_projects["X"]])
    factory.ballot(other, None, [])
    election, _ = budgeting.results.election_for(attached(Consultation, consultation))
    assert election.ballots == (frozenset({str(projects["A"].id)}),)


# Computing


def test_compute_stores_what_the_counting_rules_give(majority_and_minority, moderator):
    consultation, _ = majority_and_minority
    election, _ = budgeting.results.election_for(consultation)
    expected = tally.count(election, TallyRule.EQUAL_SHARES)
    compared = tally.count(election, tally.comparison_rule(TallyRule.EQUAL_SHARES))
    budgeting.results.compute(consultation, moderator)
    stored = entries(consultation)
    assert {
        str(pid): (e.funded_by_rule, e.position, e.share_cents, e.funded_by_comparison)
        for pid, e in stored.items()
    } == {
        project: (
            project in expected.funded,
            expected.funded.index(project) + 1 if project in expected.funded else None,
            math.ceil(expected.shares[project] * 100) if project in expected.shares else None,
            project in compared.funded,
        )
        for project in election.costs
    }


def test_compute_stores_costs_approvals_and_the_tally_settings(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    record = budgeting.results.compute(consultation, moderator)
    assert (record.rule, record.comparison_rule, record.budget, record.ballot_count) == (
        TallyRule.EQUAL_SHARES,
        TallyRule.GREEDY,
        120,
        6,
    )
    assert {pid: (e.cost, e.approvals) for pid, e in entries(consultation).items()} == {
        projects["A"].id: (60, 4),
        projects["B"].id: (60, 3),
        projects["C"].id: (60, 2),
    }


def test_equal_shares_funds_the_minority_project(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    assert funded_by_rule(consultation) == {projects["A"].id, projects["C"].id}


def test_greedy_funds_the_two_most_approved(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    consultation.tally_rule = TallyRule.GREEDY
    db.session.commit()
    budgeting.results.compute(consultation, moderator)
    assert funded_by_rule(consultation) == {projects["A"].id, projects["B"].id}


def test_the_comparison_rule_of_equal_shares_is_greedy(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    compared = {pid for pid, e in entries(consultation).items() if e.funded_by_comparison}
    assert compared == {projects["A"].id, projects["B"].id}


def test_compute_marks_the_funded_proposals_as_selected(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    projects["B"].selected = True  # left over from an earlier count
    db.session.commit()
    budgeting.results.compute(consultation, moderator)
    assert selected_ids(consultation) == {projects["A"].id, projects["C"].id}


def test_min_approvals_keeps_projects_below_it_unfunded(majority_and_minority, moderator):
    """With at least 3 approvals needed C leaves the election: equal shares funds A, then B
    once the share reaches 35 (A and B cost 120, the whole budget)."""
    consultation, projects = majority_and_minority
    consultation.min_approvals = 3
    db.session.commit()
    budgeting.results.compute(consultation, moderator)
    stored = entries(consultation)
    assert funded_by_rule(consultation) == {projects["A"].id, projects["B"].id}
    assert not stored[projects["C"].id].funded_by_comparison


def test_compute_is_audited_with_rule_and_totals(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    (event,) = [e for e in actions(consultation) if e.action == "results.computed"]
    assert (event.actor_id, event.details["rule"], event.details["cost"]) == (
        moderator.id,
        "equal_shares",
        120,
    )
    assert set(event.details["funded"]) == {projects["A"].id, projects["C"].id}


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.CLOSED])
def test_compute_outside_evaluating_is_refused(factory, moderator, phase):
    consultation, projects = budget_consultation(factory, {"A": 60}, phase=phase)
    factory.ballot(consultation, None, [projects["A"]])
    with pytest.raises(DomainError, match="being evaluated"):
        budgeting.results.compute(attached(Consultation, consultation), moderator)
    assert db.session.scalar(db.select(db.func.count()).select_from(Tally)) == 0


def test_citizens_cannot_compute(majority_and_minority, citizen):
    consultation, _ = majority_and_minority
    with pytest.raises(NotAllowed):
        budgeting.results.compute(consultation, citizen)


def test_compute_refuses_a_support_consultation(factory, moderator):
    consultation = factory.consultation(phase=Phase.EVALUATING, budget=100)
    with pytest.raises(DomainError, match="supports"):
        budgeting.results.compute(attached(Consultation, consultation), moderator)


# Overrides


def test_override_funds_a_project_the_rule_left_out(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    entry = budgeting.results.override(consultation, moderator, projects["B"], True, REASON)
    assert (entry.override, entry.override_reason, entry.funded) == (Override.FUND, REASON, True)
    assert projects["B"].id in selected_ids(consultation)


def test_override_drops_a_project_the_rule_chose(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    entry = budgeting.results.override(consultation, moderator, projects["C"], False, REASON)
    assert (entry.override, entry.funded_by_rule, entry.funded) == (Override.DROP, True, False)
    assert selected_ids(consultation) == {projects["A"].id}


@pytest.mark.parametrize("reason", ["", "   ", "too short", "x" * 501])
def test_override_needs_a_reason_of_10_to_500_characters(majority_and_minority, moderator, reason):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    with pytest.raises(ValidationFailed) as refused:
        budgeting.results.override(consultation, moderator, projects["B"], True, reason)
    assert "reason" in refused.value.errors
    assert entries(consultation)[projects["B"].id].override is None


def test_override_is_an_audit_event_with_the_reason(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["B"], True, REASON)
    event = actions(consultation)[-1]
    assert (event.action, event.subject_id, event.details["reason"]) == (
        "results.overridden",
        projects["B"].id,
        REASON,
    )


def test_override_in_the_direction_of_the_rule_is_refused(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    with pytest.raises(DomainError, match="already funds"):
        budgeting.results.override(consultation, moderator, projects["A"], True, REASON)


def test_override_before_computing_is_refused(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    with pytest.raises(DomainError, match="compute the result first"):
        budgeting.results.override(consultation, moderator, projects["B"], True, REASON)


def test_override_after_closing_is_refused(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    with pytest.raises(DomainError, match="being evaluated"):
        budgeting.results.override(consultation, moderator, projects["B"], True, REASON)


def test_citizens_cannot_override(majority_and_minority, moderator, citizen):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    with pytest.raises(NotAllowed):
        budgeting.results.override(consultation, citizen, projects["B"], True, REASON)


def test_an_override_may_overshoot_the_budget_and_the_view_says_by_how_much(
    majority_and_minority, moderator
):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["B"], True, REASON)
    totals = budgeting.results.view(consultation).totals
    assert (totals.spent_by_rule, totals.spent, totals.left_over, totals.overshoot) == (
        120,
        180,
        -60,
        60,
    )


def test_clearing_an_override_returns_to_the_rule(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["C"], False, REASON)
    entry = budgeting.results.clear_override(consultation, moderator, projects["C"])
    assert (entry.override, entry.override_reason, entry.funded) == (None, None, True)
    assert selected_ids(consultation) == {projects["A"].id, projects["C"].id}
    assert actions(consultation)[-1].action == "results.override_cleared"


def test_recomputing_clears_the_overrides(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["B"], True, REASON)
    budgeting.results.compute(consultation, moderator)
    assert [e.override for e in entries(consultation).values()] == [None, None, None]
    assert selected_ids(consultation) == {projects["A"].id, projects["C"].id}
    assert actions(consultation)[-1].details["overrides_cleared"] == 1


def test_recomputing_keeps_one_tally_per_consultation(majority_and_minority, moderator):
    consultation, _ = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.compute(consultation, moderator)
    assert db.session.scalar(db.select(db.func.count()).select_from(Tally)) == 1
    assert db.session.scalar(db.select(db.func.count()).select_from(TallyEntry)) == 3


# The view


def test_view_is_none_before_computing(majority_and_minority):
    consultation, _ = majority_and_minority
    assert budgeting.results.view(consultation) is None


def test_view_lists_the_most_approved_first_with_totals(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    result = budgeting.results.view(consultation)
    assert [row.proposal.id for row in result.rows] == [
        projects[name].id for name in ("A", "B", "C")
    ]
    assert (result.totals.spent, result.totals.spent_by_comparison, result.ballot_count) == (
        120,
        120,
        6,
    )


def test_view_tells_what_only_one_of_the_rules_funds(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    result = budgeting.results.view(consultation)
    assert [row.proposal.id for row in result.only_by_rule] == [projects["C"].id]
    assert [row.proposal.id for row in result.only_by_comparison] == [projects["B"].id]


# Closing


def test_closing_with_ballots_but_no_tally_is_refused(majority_and_minority, moderator):
    consultation, _ = majority_and_minority
    with pytest.raises(DomainError, match="compute the result first"):
        phases.change_phase(consultation, Phase.CLOSED, moderator)


def test_closing_after_computing_publishes_the_result(majority_and_minority, moderator):
    consultation, _ = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    assert consultation.results_published_at is not None


def test_closing_without_any_ballot_is_allowed(factory, moderator):
    consultation, _ = budget_consultation(factory, {"A": 60})
    consultation = attached(Consultation, consultation)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    assert consultation.phase is Phase.CLOSED


# Promoting the funded projects


@pytest.fixture
def closed_with_result(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["B"], True, REASON)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    return consultation, projects


def initiatives_of(consultation) -> dict[int, Initiative]:
    return initiatives.initiatives_by_proposal(consultation)


def test_promote_funded_creates_an_initiative_per_funded_project(closed_with_result, moderator):
    consultation, projects = closed_with_result
    created = initiatives.promote_funded(consultation, moderator)
    assert len(created) == 3
    assert {pid: i.allocated_budget for pid, i in initiatives_of(consultation).items()} == {
        projects["A"].id: 60,
        projects["B"].id: 60,
        projects["C"].id: 60,
    }


def test_promote_funded_without_a_body_stores_none_not_a_placeholder(closed_with_result, moderator):
    consultation, _ = closed_with_result
    initiatives.promote_funded(consultation, moderator, "   ")
    assert {i.responsible_body for i in initiatives_of(consultation).values()} == {None}


def test_promote_funded_stores_the_named_body(closed_with_result, moderator):
    consultation, _ = closed_with_result
    initiatives.promote_funded(consultation, moderator, " Parks   department ")
    bodies = {i.responsible_body for i in initiatives_of(consultation).values()}
    assert bodies == {"Parks department"}


def test_promote_funded_leaves_out_dropped_projects(majority_and_minority, moderator):
    consultation, projects = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    budgeting.results.override(consultation, moderator, projects["C"], False, REASON)
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    initiatives.promote_funded(consultation, moderator)
    assert set(initiatives_of(consultation)) == {projects["A"].id}


def test_promote_funded_twice_creates_nothing_more(closed_with_result, moderator):
    consultation, _ = closed_with_result
    initiatives.promote_funded(consultation, moderator)
    assert initiatives.promote_funded(consultation, moderator) == []
    assert len(initiatives_of(consultation)) == 3


def test_promote_funded_keeps_an_existing_initiative(closed_with_result, moderator, factory):
    consultation, projects = closed_with_result
    factory.initiative(projects["A"], allocated_budget=75)
    created = initiatives.promote_funded(consultation, moderator)
    assert len(created) == 2
    assert initiatives_of(consultation)[projects["A"].id].allocated_budget == 75


def test_promote_funded_is_audited(closed_with_result, moderator):
    consultation, _ = closed_with_result
    initiatives.promote_funded(consultation, moderator)
    created = [e for e in actions(consultation) if e.action == "initiative.created"]
    assert len(created) == 3


def test_promote_funded_before_closing_is_refused(majority_and_minority, moderator):
    consultation, _ = majority_and_minority
    budgeting.results.compute(consultation, moderator)
    with pytest.raises(DomainError, match="closed"):
        initiatives.promote_funded(consultation, moderator)


def test_citizens_cannot_promote_funded(closed_with_result, citizen):
    consultation, _ = closed_with_result
    with pytest.raises(NotAllowed):
        initiatives.promote_funded(consultation, citizen)
