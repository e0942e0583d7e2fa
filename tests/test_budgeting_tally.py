"""The counting rules agree with pabutools, on real elections and on random small ones.

Nothing here touches the database: the rules count `Election`s. The real elections and the
outcomes pabutools computes for them are in tests/data/pabulib/ (see its README).
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from participation.models import TallyRule
from participation.services.budgeting import pabulib, tally
from participation.services.budgeting.tally import (
    Election,
    equal_shares,
    equal_shares_greedy,
    greedy,
    reference,
)
from tests import pabutools_oracle

DATA = Path(__file__).parent / "data" / "pabulib"
EXPECTED = json.loads((DATA / "EXPECTED.json").read_text(encoding="utf-8"))
RULES = [rule.value for rule in TallyRule]


@cache
def real_election(name: str) -> Election:
    return pabulib.to_election(pabulib.parse((DATA / name).read_bytes()))


@cache
def real_outcome(name: str, rule: str) -> tally.Outcome:
    election = real_election(name)
    if rule == "equal_shares_greedy":
        # The same as tally.count(election, rule), without counting equal shares twice on
        # city-size elections (the composition itself is compared with pabutools below).
        return equal_shares_greedy.complete(election, real_outcome(name, "equal_shares"))
    return tally.count(election, rule)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_real_elections_fund_what_pabutools_funds(name: str, rule: str) -> None:
    expected = EXPECTED[name][rule]
    outcome = real_outcome(name, rule)
    assert list(outcome.funded) == expected["funded"]
    assert outcome.cost == expected["cost"]
    assert outcome.budget == expected["budget"]


def test_assen_funds_what_the_city_funded() -> None:
    """Assen used equal shares with Add1: the file's `selected` column is what it funded."""
    pb = pabulib.parse((DATA / "Netherlands_Assen_2024.pb").read_bytes())
    selected = {project["project_id"] for project in pb.projects if project["selected"] == "1"}
    assert set(real_outcome("Netherlands_Assen_2024.pb", "equal_shares").funded) == selected


def test_equal_shares_reports_what_supporters_paid() -> None:
    outcome = real_outcome("Netherlands_Assen_2024.pb", "equal_shares")
    election = real_election("Netherlands_Assen_2024.pb")
    assert set(outcome.shares) == set(outcome.funded)
    for project, share in outcome.shares.items():
        assert isinstance(share, Fraction)
        # Nobody pays more than the whole project, and together the supporters pay at
        # least its cost at that share.
        assert 0 < share <= election.costs[project]
        assert share * election.approvals[project] >= election.costs[project]


# Random small elections --------------------------------------------------------------------

# Few distinct costs and ids that sort differently as text and as numbers, so that ties and
# their breaking ("10" before "9") happen often.
COSTS = st.sampled_from([1, 2, 3, 5, 10, 10, 20, 25, 40, 50, 100])


@st.composite
def elections(draw, max_projects: int = 12, max_voters: int = 40, free: bool = False):
    count = draw(st.integers(min_value=1, max_value=max_projects))
    names = draw(
        st.lists(
            st.sampled_from([str(i) for i in range(1, 25)]),
            min_size=count,
            max_size=count,
            unique=True,
        )
    )
    cost = st.one_of(st.just(0), COSTS) if free else COSTS
    costs = {name: draw(cost) for name in names}
    total = sum(costs.values())
    budget = draw(st.integers(min_value=0, max_value=max(total, 1)))
    voters = draw(st.integers(min_value=0, max_value=max_voters))
    # Blocs of identical ballots, as in real elections, and some individual ones.
    blocs = draw(st.lists(st.frozensets(st.sampled_from(names)), min_size=1, max_size=5))
    ballots = [draw(st.sampled_from(blocs)) for _ in range(voters)]
    return Election.build(budget, costs, ballots)


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(elections())
def test_random_elections_agree_with_pabutools(election: Election) -> None:
    for rule in RULES:
        assert list(tally.count(election, rule).funded) == pabutools_oracle.funded(
            election, rule
        ), rule


@PROPERTY
@given(elections(free=True))
def test_free_projects_agree_with_pabutools(election: Election) -> None:
    """With cost satisfaction a free project satisfies nobody: equal shares never funds it,
    greedy funds it last (density 0), like a project nobody approved."""
    for rule in RULES:
        assert list(tally.count(election, rule).funded) == pabutools_oracle.funded(
            election, rule
        ), rule


@PROPERTY
@given(elections(), st.integers(min_value=1, max_value=8))
def test_min_approvals_removes_projects_from_every_rule(
    election: Election, min_approvals: int
) -> None:
    approvals = election.approvals
    kept = election.with_min_approvals(min_approvals)
    for rule in RULES:
        outcome = tally.count(election, rule, min_approvals=min_approvals)
        assert all(approvals[p] >= min_approvals for p in outcome.funded)
        assert list(outcome.funded) == pabutools_oracle.funded(kept, rule), rule


@PROPERTY
@given(elections())
def test_fast_equal_shares_equals_the_plain_transcription(election: Election) -> None:
    funded, _ = reference.add1(election)
    assert list(equal_shares.count(election).funded) == funded


@PROPERTY
@given(elections(free=True))
def test_no_rule_spends_more_than_the_budget(election: Election) -> None:
    for rule in RULES:
        outcome = tally.count(election, rule)
        assert outcome.cost == sum(election.costs[p] for p in outcome.funded)
        assert outcome.cost <= election.budget
        assert len(set(outcome.funded)) == len(outcome.funded)


@PROPERTY
@given(elections(free=True))
def test_greedy_leaves_nothing_that_would_still_fit(election: Election) -> None:
    for rule in (TallyRule.GREEDY, TallyRule.EQUAL_SHARES_GREEDY):
        outcome = tally.count(election, rule)
        left = election.budget - outcome.cost
        assert all(cost > left for p, cost in election.costs.items() if p not in outcome.funded)


def test_greedy_breaks_ties_by_id_as_text() -> None:
    election = Election.build(10, {"9": 10, "10": 10}, [{"9", "10"}])
    assert greedy.count(election).funded == ("10",)


def test_equal_shares_follows_the_groups_greedy_ignores() -> None:
    """60 voters want A (cost 60) and B (cost 60), 40 want C (cost 40); budget 100.

    Greedy funds the two projects with 60 approvals ... only A fits after it (60 + 60 > 100),
    then C fits: A, C. Equal shares gives each voter 1: the 60 pay 60 for A (1 each); B would
    need another 60 from voters who have nothing left; the 40 pay 40 for C. Same set here, but
    with B cheaper than A the two rules part: see the next test.
    """
    ballots = [{"A", "B"}] * 60 + [{"C"}] * 40
    election = Election.build(100, {"A": 60, "B": 60, "C": 40}, ballots)
    assert set(tally.count(election, "greedy").funded) == {"A", "C"}
    assert set(tally.count(election, "equal_shares").funded) == {"A", "C"}


def test_equal_shares_gives_a_minority_its_share() -> None:
    """70 voters approve A and B (30 each), 30 approve C (40); budget 100.

    Greedy: A and B first (70 approvals), 60 spent, C (40) fits: all three. With C costing
    50 it no longer fits after A and B: greedy funds A, B and leaves the minority nothing.
    Equal shares gives each voter 1: the 70 pay 30 + 30 for A and B, the 30 have 30 for C,
    which costs 50, not enough... at the first raise every voter has 1 + t; C is affordable
    when 30 * (1 + t) >= 50, and A, B are bought first, so the outcome only ever holds A, B
    until raising makes it A, B, C = 110 > 100: Add1 keeps A, B. So the minority's project
    needs to cost at most its share: with C at 30, equal shares funds A, B, C while greedy,
    with a fourth project D (40, approved by the 70), funds A, B, D.
    """
    ballots = [{"A", "B", "D"}] * 70 + [{"C"}] * 30
    costs = {"A": 30, "B": 30, "C": 30, "D": 40}
    election = Election.build(100, costs, ballots)
    assert set(tally.count(election, "greedy").funded) == {"A", "B", "D"}
    assert set(tally.count(election, "equal_shares").funded) == {"A", "B", "C"}


def test_an_election_without_ballots_funds_nothing_by_equal_shares() -> None:
    election = Election.build(100, {"1": 10}, [])
    assert tally.count(election, "equal_shares").funded == ()
    assert tally.count(election, "greedy").funded == ("1",)  # pabutools: fits, so funded


def test_unknown_projects_on_a_ballot_are_refused() -> None:
    with pytest.raises(tally.ElectionError, match="unknown projects: 2"):
        Election.build(10, {"1": 5}, [{"1", "2"}])


@PROPERTY
@given(elections())
def test_equal_shares_is_the_same_when_its_split_cache_keeps_starting_afresh(
    election: Election,
) -> None:
    """The cache of class splits is bounded; starting it afresh must not change a thing."""
    kept = equal_shares.SPLIT_CACHE_SIZE
    equal_shares.SPLIT_CACHE_SIZE = 2
    try:
        funded = list(equal_shares.count(election).funded)
    finally:
        equal_shares.SPLIT_CACHE_SIZE = kept
    assert funded == reference.add1(election)[0]


def _walk_raises(election: Election, most: int = 40):
    """The state of an equal-shares count at each raise where something may change."""
    if not election.ballots:
        return
    state = equal_shares._Count(election)
    t = 0
    for _ in range(most):
        next_change = state.count(t)
        yield state
        if next_change is None:
            return
        t = next_change


def _assert_classes_agree_with_ballots(state) -> None:
    """Every class's size, and every project's supporters by class, follow from the
    groups of ballots in each class (projects out of the running keep stale counts)."""
    members: Counter[int] = Counter()
    support: dict[int, Counter[int]] = {c: Counter() for c in state.alive}
    for group, klass in enumerate(state.class_of):
        members[klass] += state.weights[group]
        for candidate in state.ballots[group]:
            if candidate in support:
                support[candidate][klass] += state.weights[group]
    assert state.sizes == [members[klass] for klass in range(len(state.sizes))]
    for candidate, counts in support.items():
        assert state.supporters[candidate] == dict(counts)


@PROPERTY
@given(elections())
def test_equal_shares_classes_agree_with_the_ballots_at_every_raise(election: Election) -> None:
    for state in _walk_raises(election):
        _assert_classes_agree_with_ballots(state)


def test_equal_shares_classes_agree_with_the_ballots_on_a_real_election() -> None:
    for state in _walk_raises(real_election("Poland_Wieliczka_2023_Green_Budget.pb"), most=400):
        _assert_classes_agree_with_ballots(state)


def _assert_count_is_the_plain_one(state, election: Election) -> None:
    """The count at its raise, funded projects in order and what their supporters paid, is
    what the plain transcription gives at that raise."""
    t = state.values_at
    funded, shares = reference.run(election, Fraction(election.budget, len(election.ballots)) + t)
    assert state.outcome() == funded
    paid = {
        state.names[c]: Fraction(int(v.numerator), int(v.denominator))
        for c, alpha in state.shares.items()
        for v in (equal_shares._value(alpha, t),)
    }
    assert paid == shares


@PROPERTY
@given(elections())
def test_equal_shares_at_every_raise_is_the_plain_count(election: Election) -> None:
    for state in _walk_raises(election):
        _assert_count_is_the_plain_one(state, election)


def test_rounds_counted_for_their_raise_only_are_taken_back_in_time() -> None:
    """Once a round goes stale at the next raise, the rounds after it are counted for the
    values at this raise only (no formulas, so no horizon of their own). They must all be
    taken back before the next raise is counted: the count at every raise stays exact."""
    election = real_election("Poland_Wieliczka_2023_Green_Budget.pb")
    values_only = 0
    for state in _walk_raises(election, most=120):
        _assert_count_is_the_plain_one(state, election)
        kinds = [round_.exact for round_ in state.rounds]
        first = kinds.index(False) if False in kinds else len(kinds)
        # Values only after a round that goes stale at the next raise, and from there on.
        assert not any(kinds[first:])
        if first < len(kinds):
            assert any(r.until == state.values_at + 1 for r in state.rounds[:first])
        values_only += len(kinds) - first
    assert values_only > 1000


def test_a_round_counted_again_splits_classes_in_the_same_order() -> None:
    """Undoing a round shuffles the order of its project's supporters (a class that lost all
    of them comes back last); counted again, the round must still split the classes in the
    same order, or the new classes get other numbers than the later rounds' logs expect."""
    state = equal_shares._Count(real_election("Poland_Wieliczka_2023_Green_Budget.pb"))
    state.count(0)
    position = max(i for i, r in enumerate(state.rounds) if len(r.splits) >= 2 and r.exact)
    old = state.rounds[position]
    state._take_back(position, 0)
    supporters = state.supporters[old.chosen]
    reversed_order = dict(reversed(list(supporters.items())))
    supporters.clear()
    supporters.update(reversed_order)
    again = state._step(0)
    assert again.chosen == old.chosen
    assert again.split_classes() == old.split_classes()
    assert again.same_change(old)


def _sequential_and_parallel(election: Election, processes: int, monkeypatch) -> tuple:
    sequential = equal_shares.count(election, processes=1)
    monkeypatch.setattr(equal_shares, "PARALLEL_AFTER", 0)  # in parallel from the first raise
    return sequential, equal_shares.count(election, processes=processes)


@pytest.mark.parametrize("processes", [2, 3])
@pytest.mark.parametrize(
    "name", ["Poland_Wieliczka_2023_Green_Budget.pb", "Switzerland_Zurich_SN.pb"]
)
def test_equal_shares_in_several_processes_is_the_same(name, processes, monkeypatch) -> None:
    """Processes that count different raises reach the outcome of one process that counts
    them all, payments included."""
    sequential, parallel = _sequential_and_parallel(real_election(name), processes, monkeypatch)
    assert parallel == sequential
    assert list(parallel.funded) == EXPECTED[name]["equal_shares"]["funded"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(elections())
def test_equal_shares_in_several_processes_is_the_same_on_random_elections(
    election: Election,
) -> None:
    with pytest.MonkeyPatch.context() as monkeypatch:
        sequential, parallel = _sequential_and_parallel(election, 3, monkeypatch)
    assert parallel == sequential


def test_equal_shares_recovers_from_a_helper_that_ends_early(monkeypatch) -> None:
    """A helper process that ends without sending its counts (killed, say) leaves its raises
    to the main process: the outcome is the same, only later."""

    def gives_up(state, add1, t, step, sender) -> None:
        sender.close()

    monkeypatch.setattr(equal_shares, "_count_residue", gives_up)
    name = "Poland_Wieliczka_2023_Green_Budget.pb"
    sequential, parallel = _sequential_and_parallel(real_election(name), 2, monkeypatch)
    assert parallel == sequential


def test_add1_judges_counts_that_come_in_any_order() -> None:
    """The counts at single raises, handed over shuffled (as several processes send them),
    give the outcome of handing them over in order."""
    election = real_election("Poland_Wieliczka_2023_Green_Budget.pb")
    state = equal_shares._Count(election)
    in_order = equal_shares._Add1(election, state.names)
    evaluations, outcome, t = [], None, 0
    while outcome is None:
        evaluations.append(equal_shares._evaluate(state, t))
        outcome = in_order.add(evaluations[-1])
        t = evaluations[-1].until
    assert len(evaluations) > 100
    shuffled = equal_shares._Add1(election, state.names)
    # The last count first: it ends the completion, but only once every raise before it
    # is judged, that is with the very first count.
    for evaluation in reversed(evaluations):
        decided = shuffled.add(evaluation)
        assert (decided is None) == (evaluation is not evaluations[0])
    assert decided == outcome == equal_shares.count(election, processes=1)


def test_equal_shares_leaves_the_cycle_collector_as_it_found_it() -> None:
    """A count switches Python's cycle collector off while it runs, and back on after."""
    election = real_election("Switzerland_Zurich_SN.pb")
    assert gc.isenabled()
    equal_shares.count(election)
    assert gc.isenabled()
    gc.disable()
    try:
        equal_shares.count(election)
        assert not gc.isenabled()
    finally:
        gc.enable()
