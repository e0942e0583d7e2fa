"""`equal_shares`: the Method of Equal Shares with cost utilities and Add1 completion.

(Temporary: delegates to the reference transcription until the fast version lands.)
"""

from __future__ import annotations

from participation.services.tally import reference
from participation.services.tally.election import Election, Outcome

NAME = "equal_shares"


def count(election: Election) -> Outcome:
    funded, _ = reference.add1(election)
    return Outcome(
        rule=NAME,
        funded=tuple(funded),
        cost=sum(election.costs[p] for p in funded),
        budget=election.budget,
    )
