"""Participatory budgeting: who may vote (`electorate`: voting codes, the voter register), the
ballots citizens fill in (`ballots`), counting them with a rule (`tally`, no database), the
results with the moderators' overrides (`results`), the pabulib file format (`pabulib`) and
the paper ballots staff enter twice (`paper`).

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
    paper,
    results,
    tally,
)

__all__ = ["ballots", "electorate", "pabulib", "paper", "results", "tally"]
