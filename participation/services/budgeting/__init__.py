"""Participatory budgeting: who may vote (`electorate`: voting codes, the voter register), the
ballots citizens fill in (`ballots`), counting them with a rule (`tally`, no database), the
results with the moderators' overrides (`results`) and the pabulib file format (`pabulib`).

Other areas import this package, never its modules:

    from participation.services import budgeting
    budgeting.results.compute(consultation)
    from participation.services.budgeting import ballots, tally
"""

from __future__ import annotations

from participation.services.budgeting import (
    ballots,
    electorate,
    pabulib,
    results,
    tally,
)

__all__ = ["ballots", "electorate", "pabulib", "results", "tally"]
