"""An election as the counting rules see it: a budget, projects with costs, approval ballots.

Nothing here knows the database: the rules count an `Election` built from stored ballots
(budgeting.results), from a pabulib file (budgeting.pabulib, `flask pb tally`) or from a
test. Money is exact: costs and the budget are integers or `fractions.Fraction`, never floats.

Project ids are strings, as in pabulib files; ties between projects are broken by the id
compared *as a string* ("10" before "9"), the tie-breaking of the reference implementation
pabutools, so that results agree with it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

Money = int | Fraction


class ElectionError(ValueError):
    """The election cannot be counted as given (unknown project on a ballot, bad cost, ...)."""


@dataclass(frozen=True)
class Election:
    budget: Money
    # Project id -> cost, in the order the projects were listed.
    costs: Mapping[str, Money]
    # One approval set per ballot; a ballot may be empty.
    ballots: tuple[frozenset[str], ...]
    _approvals: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def build(
        cls, budget: Money, costs: Mapping[str, Money], ballots: Iterable[Iterable[str]]
    ) -> Election:
        if budget < 0:
            raise ElectionError("The budget must not be negative.")
        for project, cost in costs.items():
            if cost < 0:
                raise ElectionError(f"Project {project} has a negative cost.")
        frozen = tuple(frozenset(ballot) for ballot in ballots)
        for number, ballot in enumerate(frozen, start=1):
            unknown = ballot - costs.keys()
            if unknown:
                raise ElectionError(
                    f"Ballot {number} approves unknown projects: {', '.join(sorted(unknown))}."
                )
        return cls(budget=budget, costs=dict(costs), ballots=frozen)

    @property
    def approvals(self) -> dict[str, int]:
        """Approvals per project (every project listed, 0 for none)."""
        if not self._approvals:
            counts = Counter(project for ballot in self.ballots for project in ballot)
            self._approvals.update({project: counts[project] for project in self.costs})
        return self._approvals

    def ballot_groups(self) -> list[tuple[frozenset[str], int]]:
        """Identical ballots merged, with their number: the rules treat them alike."""
        return list(Counter(self.ballots).items())

    def with_min_approvals(self, min_approvals: int | None) -> Election:
        """The election without the projects below the threshold: no rule may fund them.

        This is pabulib's `min_project_score_threshold` (Warsaw): the projects leave the
        election, the ballots keep their other approvals and every voter keeps their share.
        """
        if not min_approvals:
            return self
        approvals = self.approvals
        kept = {p: cost for p, cost in self.costs.items() if approvals[p] >= min_approvals}
        return Election(
            budget=self.budget,
            costs=kept,
            ballots=tuple(frozenset(ballot & kept.keys()) for ballot in self.ballots),
        )


@dataclass(frozen=True)
class Outcome:
    """What a rule funds, in the order it chose the projects."""

    rule: str
    funded: tuple[str, ...]
    cost: Money
    budget: Money
    # Equal shares: for each funded project the most one supporter paid for it (the share
    # of its cost each supporter carried, unless they had less money left).
    shares: Mapping[str, Fraction] = field(default_factory=dict)

    @property
    def left_over(self) -> Money:
        return self.budget - self.cost
