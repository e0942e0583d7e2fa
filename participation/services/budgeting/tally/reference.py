"""A plain, slow transcription of the Method of Equal Shares, kept to check the fast one.

It follows pabutools' `method_of_equal_shares` step by step (per group of identical ballots
instead of per voter, which changes no number) and is used by the tests only.
"""

from __future__ import annotations

from fractions import Fraction

from participation.services.budgeting.tally.election import Election


def run(election: Election, per_voter: Fraction) -> tuple[list[str], dict[str, Fraction]]:
    groups = election.ballot_groups()
    budgets = [Fraction(per_voter)] * len(groups)
    costs = election.costs
    approvals = election.approvals
    supporters: dict[str, list[int]] = {p: [] for p in costs}
    for index, (ballot, _) in enumerate(groups):
        for project in ballot:
            supporters[project].append(index)
    funded: list[str] = []
    candidates = {p for p in costs if approvals[p] and costs[p] > 0}
    afford = {p: Fraction(1, approvals[p]) for p in candidates}
    shares: dict[str, Fraction] = {}
    while True:
        best: Fraction | None = None
        tied: list[str] = []
        for project in sorted(candidates, key=lambda p: afford[p]):
            cost = costs[project]
            available = sum(budgets[g] * groups[g][1] for g in supporters[project])
            if available < cost:
                candidates.discard(project)
                continue
            if best is not None and afford[project] > best:
                break
            paid, remaining = Fraction(0), approvals[project]
            for g in sorted(supporters[project], key=lambda g: budgets[g]):
                alpha = (cost - paid) / remaining
                if alpha <= budgets[g]:
                    break
                paid += budgets[g] * groups[g][1]
                remaining -= groups[g][1]
            afford[project] = alpha / cost
            if best is None or afford[project] < best:
                best, tied = afford[project], [project]
            elif afford[project] == best:
                tied.append(project)
        if not tied:
            return funded, shares
        chosen = min(tied)
        alpha = best * costs[chosen]
        for g in supporters[chosen]:
            budgets[g] -= min(budgets[g], alpha)
        candidates.discard(chosen)
        funded.append(chosen)
        shares[chosen] = alpha


def add1(election: Election) -> tuple[list[str], int]:
    """Add1 completion; returns the outcome and the number of runs it took."""
    if not election.ballots:
        return [], 0
    costs = election.costs
    approvals = election.approvals
    candidates = [p for p in costs if approvals[p] and costs[p] > 0]
    previous: list[str] = []
    per_voter = Fraction(election.budget, len(election.ballots))
    runs = 0
    while True:
        runs += 1
        funded, _ = run(election, per_voter)
        spent = sum(costs[p] for p in funded)
        if spent > election.budget:
            return previous, runs
        chosen = set(funded)
        if all(p in chosen or spent + costs[p] > election.budget for p in candidates):
            return funded, runs
        previous = funded
        per_voter += 1
