"""Results of a support consultation: the ranking, the winner rules, and their publication."""

from __future__ import annotations

from datetime import timedelta

import pytest

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Consultation,
    Override,
    Phase,
    Proposal,
    ProposalState,
    VotingMethod,
)
from participation.services import results
from participation.services.consultations import phases
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from participation.services.results import Visibility, WinnerRule
from tests.conftest import START
from tests.helpers import attached, selected_ids

REASON = "The council asked for the school route to be part of it."


def ranked_ids(consultation) -> list[int]:
    return [row.proposal.id for row in results.ranking(consultation)]


def winner_events(consultation) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            db.select(AuditEvent).where(
                AuditEvent.consultation_id == consultation.id,
                AuditEvent.action.like("results.%"),
            )
        )
    )


def consultation_with(factory, supports: list[int], costs=None, **fields) -> Consultation:
    """An evaluating consultation whose proposals were submitted a minute apart, in list order."""
    fields.setdefault("phase", Phase.EVALUATING)
    consultation = factory.consultation(**fields)
    author = factory.user()
    costs = costs or [None] * len(supports)
    for minute, (count, cost) in enumerate(zip(supports, costs, strict=True)):
        factory.proposal(
            consultation,
            author,
            support_count=count,
            estimated_cost=cost,
            created_at=START + timedelta(minutes=minute),
        )
    return attached(Consultation, consultation)


def ids_in_submission_order(consultation) -> list[int]:
    return list(
        db.session.scalars(
            db.select(Proposal.id)
            .where(Proposal.consultation_id == consultation.id)
            .order_by(Proposal.created_at)
        )
    )


# The ranking


def test_ranking_puts_the_most_supported_first(factory, ctx):
    consultation = consultation_with(factory, [3, 9, 0, 5])
    first, second, third, fourth = ids_in_submission_order(consultation)
    assert ranked_ids(consultation) == [second, fourth, first, third]


def test_ranking_breaks_ties_by_the_earlier_submission(factory, ctx):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    # Stored in an order that differs from the submission times, so the ids cannot decide.
    later = factory.proposal(consultation, author, support_count=4, created_at=START + timedelta(1))
    earlier = factory.proposal(consultation, author, support_count=4, created_at=START)
    assert ranked_ids(attached(Consultation, consultation)) == [earlier.id, later.id]


def test_ranking_breaks_ties_at_the_same_moment_by_the_lower_id(factory, ctx):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    first = factory.proposal(consultation, author, support_count=2, created_at=START)
    second = factory.proposal(consultation, author, support_count=2, created_at=START)
    assert ranked_ids(attached(Consultation, consultation)) == [first.id, second.id]


def test_ranking_numbers_the_ranks_from_one(factory, ctx):
    consultation = consultation_with(factory, [1, 7, 7])
    assert [(row.rank, row.supports) for row in results.ranking(consultation)] == [
        (1, 7),
        (2, 7),
        (3, 1),
    ]


@pytest.mark.parametrize("state", [ProposalState.WITHDRAWN, ProposalState.HIDDEN])
def test_ranking_leaves_out_proposals_that_are_not_published(factory, ctx, state):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    published = factory.proposal(consultation, author, support_count=1)
    factory.proposal(consultation, author, support_count=50, state=state)
    assert ranked_ids(attached(Consultation, consultation)) == [published.id]


# The winner rules


def test_top_n_selects_the_first_n_of_the_ranking(factory, moderator):
    consultation = consultation_with(factory, [3, 9, 0, 5])
    _first, second, _, fourth = ids_in_submission_order(consultation)
    chosen = results.select_winners(consultation, moderator, WinnerRule.TOP_N, 2)
    assert chosen == [second, fourth]
    assert selected_ids(consultation) == {second, fourth}


def test_top_n_with_ties_takes_the_earlier_submission(factory, moderator):
    consultation = consultation_with(factory, [5, 5, 5])
    first, _, _ = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    assert selected_ids(consultation) == {first}


def test_threshold_selects_every_proposal_with_at_least_the_value(factory, moderator):
    consultation = consultation_with(factory, [3, 9, 4, 5])
    _, second, third, fourth = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.THRESHOLD, 4)
    assert selected_ids(consultation) == {second, third, fourth}


def test_budget_greedy_skips_a_proposal_too_expensive_and_takes_a_cheaper_one_below(
    factory, moderator
):
    # Ranked 9, 7, 5, 3 supports; 600 + 300 = 900 of 1,000 spent, then 500 does not fit,
    # then 100 still does.
    consultation = consultation_with(
        factory, [9, 7, 5, 3], costs=[600, 300, 500, 100], budget=1_000
    )
    first, second, third, fourth = ids_in_submission_order(consultation)
    chosen = results.select_winners(consultation, moderator, WinnerRule.BUDGET_GREEDY, None)
    assert chosen == [first, second, fourth]
    assert third not in selected_ids(consultation)


def test_budget_greedy_never_takes_a_proposal_without_an_estimated_cost(factory, moderator):
    consultation = consultation_with(factory, [9, 1], costs=[None, 100], budget=1_000)
    _without_cost, with_cost = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.BUDGET_GREEDY, None)
    assert selected_ids(consultation) == {with_cost}


def test_budget_greedy_is_refused_without_a_budget(factory, moderator):
    consultation = consultation_with(factory, [9, 1], costs=[100, 100])
    with pytest.raises(ValidationFailed) as refusal:
        results.select_winners(consultation, moderator, WinnerRule.BUDGET_GREEDY, None)
    assert refusal.value.field == "rule"
    assert selected_ids(consultation) == set()


@pytest.mark.parametrize(
    ("rule", "value"),
    [(WinnerRule.TOP_N, 0), (WinnerRule.TOP_N, None), (WinnerRule.THRESHOLD, -1)],
    ids=["top-0", "top-without-number", "threshold-negative"],
)
def test_rule_without_a_sensible_number_is_refused(factory, moderator, rule, value):
    consultation = consultation_with(factory, [1, 2])
    with pytest.raises(ValidationFailed) as refusal:
        results.select_winners(consultation, moderator, rule, value)
    assert refusal.value.field == "value"
    assert winner_events(consultation) == []


def test_applying_a_rule_replaces_the_earlier_selection(factory, moderator):
    consultation = consultation_with(factory, [9, 5, 1])
    first, _second, _third = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.THRESHOLD, 1)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    assert selected_ids(consultation) == {first}


def test_applying_a_rule_unmarks_a_hidden_proposal_selected_before(factory, moderator):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    author = factory.user()
    factory.proposal(consultation, author, support_count=1)
    hidden = factory.proposal(consultation, author, state=ProposalState.HIDDEN, selected=True)
    consultation = attached(Consultation, consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 5)
    assert hidden.id not in selected_ids(consultation)


def test_selecting_winners_is_an_audit_event_with_rule_value_and_ids(factory, moderator):
    consultation = consultation_with(factory, [9, 5, 1])
    first, second, _ = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 2)
    [event] = winner_events(consultation)
    assert (event.action, event.actor_id, event.subject_type) == (
        "results.winners_selected",
        moderator.id,
        "consultation",
    )
    assert event.details == {"rule": "top_n", "value": 2, "selected": [first, second]}


@pytest.mark.parametrize(
    "phase", [Phase.COLLECTING, Phase.VOTING, Phase.CLOSED], ids=lambda phase: phase.value
)
def test_winners_are_chosen_only_while_evaluating(factory, moderator, phase):
    consultation = consultation_with(factory, [9, 5], phase=phase)
    with pytest.raises(DomainError, match="evaluated"):
        results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    assert selected_ids(consultation) == set()
    assert winner_events(consultation) == []


def test_citizens_cannot_choose_winners(factory, citizen):
    consultation = consultation_with(factory, [9, 5])
    with pytest.raises(NotAllowed):
        results.select_winners(consultation, citizen, WinnerRule.TOP_N, 1)
    assert selected_ids(consultation) == set()


def test_budget_consultations_have_no_ranking_winners(factory, moderator):
    consultation = consultation_with(
        factory, [9, 5], costs=[10, 10], voting_method=VotingMethod.BUDGET, budget=100
    )
    with pytest.raises(DomainError, match="budget"):
        results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    assert selected_ids(consultation) == set()


# Changing single proposals by hand


def test_moderator_marks_a_single_proposal_as_winner(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    _, second = ids_in_submission_order(consultation)
    results.set_selected(db.session.get(Proposal, second), moderator, True, REASON)
    assert selected_ids(consultation) == {second}


def test_moderator_takes_a_single_proposal_out_of_the_winners(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    first, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 2)
    results.set_selected(db.session.get(Proposal, first), moderator, False, REASON)
    assert selected_ids(consultation) == {second}


def test_a_change_by_hand_is_an_audit_event(factory, moderator):
    consultation = consultation_with(factory, [9])
    [only] = ids_in_submission_order(consultation)
    results.set_selected(db.session.get(Proposal, only), moderator, True, REASON)
    [event] = winner_events(consultation)
    assert (event.action, event.subject_type, event.subject_id) == (
        "results.selection_changed",
        "proposal",
        only,
    )
    assert event.details["selected"] is True


@pytest.mark.parametrize("reason", [None, "", "   ", "too short"])
def test_a_change_against_the_rule_needs_a_public_reason(factory, moderator, reason):
    consultation = consultation_with(factory, [9, 5])
    _, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    with pytest.raises(ValidationFailed) as refused:
        results.set_selected(db.session.get(Proposal, second), moderator, True, reason)
    assert (set(refused.value.errors), len(selected_ids(consultation))) == ({"reason"}, 1)


def test_a_change_by_hand_keeps_its_reason_for_the_results_page(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    first, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    results.set_selected(db.session.get(Proposal, first), moderator, False, REASON)
    results.set_selected(db.session.get(Proposal, second), moderator, True, REASON)
    changed = results.changed_by_hand(results.ranking(consultation))
    assert [(row.proposal.id, row.override, row.override_reason) for row in changed] == [
        (first, Override.DROP, REASON),
        (second, Override.FUND, REASON),
    ]


def test_undoing_a_change_by_hand_needs_no_reason_and_clears_it(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    _, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    results.set_selected(db.session.get(Proposal, second), moderator, True, REASON)
    results.set_selected(db.session.get(Proposal, second), moderator, False)
    assert results.changed_by_hand(results.ranking(consultation)) == []
    assert (
        results.applied_rule(consultation, results.ranking(consultation)).changed_by_hand is False
    )


def test_applying_a_rule_again_clears_the_changes_by_hand(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    _, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    results.set_selected(db.session.get(Proposal, second), moderator, True, REASON)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    assert results.changed_by_hand(results.ranking(consultation)) == []


def test_marking_a_winner_twice_is_refused(factory, moderator):
    consultation = consultation_with(factory, [9])
    [only] = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    with pytest.raises(DomainError, match="already"):
        results.set_selected(db.session.get(Proposal, only), moderator, True, REASON)


def test_a_change_by_hand_is_refused_after_closing(factory, moderator):
    consultation = consultation_with(factory, [9], phase=Phase.CLOSED)
    [only] = ids_in_submission_order(consultation)
    with pytest.raises(DomainError):
        results.set_selected(db.session.get(Proposal, only), moderator, True, REASON)
    assert selected_ids(consultation) == set()


def test_a_change_by_hand_is_refused_to_citizens(factory, citizen):
    consultation = consultation_with(factory, [9])
    [only] = ids_in_submission_order(consultation)
    with pytest.raises(NotAllowed):
        results.set_selected(db.session.get(Proposal, only), citizen, True, REASON)
    assert selected_ids(consultation) == set()


def test_the_applied_rule_tells_about_later_changes_by_hand(factory, moderator):
    consultation = consultation_with(factory, [9, 5])
    _, second = ids_in_submission_order(consultation)
    results.select_winners(consultation, moderator, WinnerRule.TOP_N, 1)
    results.set_selected(db.session.get(Proposal, second), moderator, True, REASON)
    assert results.applied_rule(consultation, results.ranking(consultation)) == results.AppliedRule(
        rule=WinnerRule.TOP_N, value=1, changed_by_hand=True
    )


# Publication


def test_closing_the_consultation_publishes_the_results(factory, moderator):
    consultation = consultation_with(factory, [9])
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    assert db.session.get(Consultation, consultation.id).results_published_at is not None


def test_moving_to_evaluating_does_not_publish_the_results(factory, moderator):
    consultation = consultation_with(factory, [9], phase=Phase.VOTING)
    phases.change_phase(consultation, Phase.EVALUATING, moderator)
    assert db.session.get(Consultation, consultation.id).results_published_at is None


def test_results_before_publication_are_hidden_from_citizens(factory, citizen):
    consultation = consultation_with(factory, [9])
    assert results.visibility(consultation, citizen) is None


def test_results_before_publication_are_a_preview_for_moderators(factory, moderator):
    consultation = consultation_with(factory, [9])
    assert results.visibility(consultation, moderator) is Visibility.PREVIEW


def test_results_while_voting_are_hidden_even_from_moderators(factory, moderator):
    consultation = consultation_with(factory, [9], phase=Phase.VOTING)
    assert results.visibility(consultation, moderator) is None


def test_published_results_are_public(factory, moderator):
    consultation = consultation_with(factory, [9])
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    assert results.visibility(consultation, None) is Visibility.PUBLIC


def test_loading_the_results_before_publication_finds_nothing_for_citizens(factory, citizen):
    consultation = consultation_with(factory, [9])
    with pytest.raises(NotFound):
        results.get_visible(consultation.slug, citizen)


def test_loading_the_results_before_publication_gives_moderators_the_preview(factory, moderator):
    consultation = consultation_with(factory, [9])
    loaded, seen_as = results.get_visible(consultation.slug, moderator)
    assert (loaded.id, seen_as) == (consultation.id, Visibility.PREVIEW)


def test_loading_published_results_gives_visitors_the_public_page(factory, moderator):
    consultation = consultation_with(factory, [9])
    phases.change_phase(consultation, Phase.CLOSED, moderator)
    assert results.get_visible(consultation.slug, None)[1] is Visibility.PUBLIC
