"""Budget consultations with ballots and tallies, stored directly (without the services), for
the tests of the pabulib format, `flask pb` and the budget exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flask import Flask

from participation.extensions import db
from participation.models import (
    Ballot,
    BallotChoice,
    Consultation,
    Override,
    Phase,
    Proposal,
    ProposalState,
    Tally,
    TallyEntry,
    TallyRule,
    User,
    VotingMethod,
)
from tests.conftest import START
from tests.factories import Factory

PABULIB = Path(__file__).parent / "data" / "pabulib"
EXPECTED = json.loads((PABULIB / "EXPECTED.json").read_text())
RULES = [rule.value for rule in TallyRule]


@dataclass
class BudgetElection:
    consultation: Consultation
    park: Proposal  # cost 60, approved by ballots 1 and 2
    bikes: Proposal  # cost 40, approved by ballots 1 and 3
    bench: Proposal  # cost 30, approved by ballot 3
    hidden: Proposal  # cost 10, approved by ballot 2, hidden after voting
    voters: list[User]
    codes: list[str]


def budget_election(
    factory: Factory, phase: Phase = Phase.CLOSED, published: bool = True, **fields
) -> BudgetElection:
    """A budget of 100 and three ballots of named citizens (and a fourth, empty one)."""
    settings = {
        "voting_method": VotingMethod.BUDGET,
        "budget": 100,
        "currency": "EUR",
        "tally_rule": TallyRule.GREEDY,
        "results_published_at": START if published else None,
        "title": "Bürgerhaushalt Güterstraße",
    }
    consultation = factory.consultation(
        phase=phase, categories=("Grünflächen", "Verkehr"), **(settings | fields)
    )
    parks, traffic = consultation.categories
    author = factory.user(display_name="Jürgen Größer")
    park = factory.proposal(
        consultation, author, title="=Park an der Güterstraße", estimated_cost=60,
        category_id=parks.id,
    )  # fmt: skip
    bikes = factory.proposal(
        consultation, author, title="Fahrradbügel; viele", estimated_cost=40,
        category_id=traffic.id,
    )  # fmt: skip
    bench = factory.proposal(consultation, author, title="Bank", estimated_cost=30)
    hidden = factory.proposal(consultation, author, title="Verstecktes Projekt", estimated_cost=10)
    voters = [factory.user(display_name=f"Wählerin {n}") for n in range(4)]
    choices = [[park, bikes], [park, hidden], [bikes, bench], []]
    codes = ["AAAA-BBBB-0001", "AAAA-BBBB-0002", "AAAA-BBBB-0003", "AAAA-BBBB-0004"]
    with factory.app.app_context():
        for voter, code, chosen in zip(voters, codes, choices, strict=True):
            db.session.add(
                Ballot(
                    consultation_id=consultation.id,
                    user_id=voter.id,
                    code=code,
                    choices=[BallotChoice(proposal_id=proposal.id) for proposal in chosen],
                )
            )
        db.session.execute(
            db.update(Proposal).where(Proposal.id == hidden.id).values(state=ProposalState.HIDDEN)
        )
        db.session.commit()
    return BudgetElection(consultation, park, bikes, bench, hidden, voters, codes)


def store_tally(app: Flask, election: BudgetElection) -> None:
    """Greedy funds park (1st) and bikes (2nd); a moderator dropped bikes and funded the bench."""
    with app.app_context():
        tally = Tally(
            consultation_id=election.consultation.id,
            rule=TallyRule.GREEDY,
            comparison_rule=TallyRule.EQUAL_SHARES_GREEDY,
            budget=100,
            ballot_count=4,
        )
        tally.entries = [
            TallyEntry(
                proposal_id=election.park.id, cost=60, approvals=2, funded_by_rule=True,
                position=1, funded_by_comparison=True,
            ),
            TallyEntry(
                proposal_id=election.bikes.id, cost=40, approvals=2, funded_by_rule=True,
                position=2, funded_by_comparison=False, override=Override.DROP,
                override_reason="-Zu teuer für den Bezirk",
            ),
            TallyEntry(
                proposal_id=election.bench.id, cost=30, approvals=1, funded_by_rule=False,
                funded_by_comparison=True, override=Override.FUND,
                override_reason="Der Bezirk legt etwas dazu.",
            ),
            TallyEntry(
                proposal_id=election.hidden.id, cost=10, approvals=1, funded_by_rule=False,
            ),
        ]  # fmt: skip
        db.session.add(tally)
        db.session.commit()
