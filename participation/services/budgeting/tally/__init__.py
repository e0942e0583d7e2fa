"""Counting budget ballots: one module per rule, exact arithmetic, pabutools' tie-breaking.

    from participation.services.budgeting import tally
    outcome = tally.count(election, TallyRule.EQUAL_SHARES, min_approvals=3000)

`count` applies the minimum number of approvals first (projects below it leave the election
for every rule), then the rule. Nothing here touches the database.
"""

from __future__ import annotations

from participation.models.consultation import TallyRule
from participation.services.budgeting.tally import equal_shares, equal_shares_greedy, greedy
from participation.services.budgeting.tally.election import Election, ElectionError, Money, Outcome

RULES = {
    TallyRule.GREEDY: greedy.count,
    TallyRule.EQUAL_SHARES: equal_shares.count,
    TallyRule.EQUAL_SHARES_GREEDY: equal_shares_greedy.count,
}


def count(election: Election, rule: TallyRule | str, min_approvals: int | None = None) -> Outcome:
    rule = TallyRule(rule)
    return RULES[rule](election.with_min_approvals(min_approvals))


def comparison_rule(rule: TallyRule) -> TallyRule:
    """The rule shown next to the announced one: greedy for the proportional rules, and
    equal shares (with greedy completion) for greedy."""
    if rule is TallyRule.GREEDY:
        return TallyRule.EQUAL_SHARES_GREEDY
    return TallyRule.GREEDY


__all__ = ["Election", "ElectionError", "Money", "Outcome", "comparison_rule", "count"]
