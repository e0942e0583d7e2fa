"""`greedy`: the most approved projects first, skipping those that no longer fit.

This is utilitarian greedy with cost satisfaction, as pabutools computes it
(`greedy_utilitarian_welfare(..., sat_class=Cost_Sat)`): a project's density is its total
satisfaction per unit of cost, approvals * cost / cost = its number of approvals. Details that
keep the results identical to pabutools:

- ties (equal approvals) go to the project whose id is smaller *as a string* ("10" < "9");
- a project that does not fit any more is skipped and the next one tried;
- projects without any approval are funded too, last, if money is left and they fit; so are
  free projects (cost 0): with cost satisfaction they bring no satisfaction, density 0.
"""

from __future__ import annotations

from collections.abc import Iterable

from participation.services.budgeting.tally.election import Election, Outcome

NAME = "greedy"


def order(election: Election) -> list[str]:
    """All projects in the order greedy considers them."""
    approvals = election.approvals

    def key(project: str) -> tuple[int, str]:
        density = approvals[project] if election.costs[project] > 0 else 0
        return (-density, project)

    return sorted(election.costs, key=key)


def complete(election: Election, funded: Iterable[str] = ()) -> list[str]:
    """Extend `funded` greedily within the budget; returns the projects added, in order."""
    chosen = set(funded)
    remaining = election.budget - sum(election.costs[project] for project in chosen)
    added = []
    for project in order(election):
        cost = election.costs[project]
        if project not in chosen and cost <= remaining:
            added.append(project)
            remaining -= cost
    return added


def count(election: Election) -> Outcome:
    funded = tuple(complete(election))
    return Outcome(
        rule=NAME,
        funded=funded,
        cost=sum(election.costs[project] for project in funded),
        budget=election.budget,
    )
