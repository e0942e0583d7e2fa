"""`equal_shares_greedy`: the Method of Equal Shares (Add1), then what is left spent greedily.

This is pabutools' `completion_by_rule_combination` of `method_of_equal_shares` and
`greedy_utilitarian_welfare`: greedy starts from the equal-shares outcome and adds, in greedy's
order, every project that still fits.
"""

from __future__ import annotations

from participation.services.budgeting.tally import equal_shares, greedy
from participation.services.budgeting.tally.election import Election, Outcome

NAME = "equal_shares_greedy"


def count(election: Election) -> Outcome:
    return complete(election, equal_shares.count(election))


def complete(election: Election, first: Outcome) -> Outcome:
    """The equal-shares outcome `first`, with what is left spent greedily."""
    added = greedy.complete(election, first.funded)
    funded = first.funded + tuple(added)
    return Outcome(
        rule=NAME,
        funded=funded,
        cost=first.cost + sum(election.costs[p] for p in added),
        budget=election.budget,
        shares=first.shares,
    )
