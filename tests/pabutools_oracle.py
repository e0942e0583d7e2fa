"""The reference implementation, pabutools, called exactly as ../shared/pabulib/README.md says.

Tests only: the product never imports pabutools.
"""

from __future__ import annotations

from fractions import Fraction

from pabutools.election import (
    ApprovalBallot,
    ApprovalProfile,
    Cost_Sat,
    Instance,
    Project,
)
from pabutools.rules import (
    completion_by_rule_combination,
    greedy_utilitarian_welfare,
    method_of_equal_shares,
)

from participation.services.budgeting.tally import Election


def _instance(election: Election) -> tuple[Instance, ApprovalProfile]:
    projects = {name: Project(name, cost) for name, cost in election.costs.items()}
    instance = Instance(projects.values(), budget_limit=election.budget)
    profile = ApprovalProfile(
        [ApprovalBallot(projects[name] for name in ballot) for ballot in election.ballots],
        instance=instance,
    )
    return instance, profile


def funded(election: Election, rule: str) -> list[str]:
    """The projects pabutools funds, in the order its rule chose them."""
    instance, profile = _instance(election)
    if rule == "greedy":
        outcome = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    elif rule == "equal_shares":
        outcome = method_of_equal_shares(
            instance, profile, sat_class=Cost_Sat, voter_budget_increment=1
        )
    elif rule == "equal_shares_greedy":
        outcome = completion_by_rule_combination(
            instance,
            profile,
            [method_of_equal_shares, greedy_utilitarian_welfare],
            [{"sat_class": Cost_Sat, "voter_budget_increment": 1}, {"sat_class": Cost_Sat}],
        )
    else:  # pragma: no cover
        raise ValueError(rule)
    return [project.name for project in outcome]


def total(election: Election, names: list[str]) -> Fraction:
    return sum((Fraction(election.costs[name]) for name in names), Fraction(0))
