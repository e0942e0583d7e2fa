"""Budget consultations with ballots and tallies, stored directly (without the services), for
the tests of the pabulib format, `flask pb`, the budget exports and the budget results."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
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


def budget_consultation(factory: Factory, costs: dict, phase=Phase.EVALUATING, **fields):
    """A budget consultation and its projects (named by the keys of `costs`, in that order)."""
    fields.setdefault("budget", 120)
    fields.setdefault("tally_rule", TallyRule.EQUAL_SHARES)
    consultation = factory.consultation(phase=phase, voting_method=VotingMethod.BUDGET, **fields)
    author = factory.user()
    projects = {
        name: factory.proposal(
            consultation,
            author,
            title=f"Project {name}",
            estimated_cost=cost,
            created_at=START + timedelta(minutes=minute),
        )
        for minute, (name, cost) in enumerate(costs.items())
    }
    return consultation, projects


def majority_and_minority_election(factory: Factory) -> tuple[Consultation, dict[str, Proposal]]:
    """Budget 120; A, B and C cost 60 each. Voters 1-3 approve A and B, voter 4 only A, voters
    5 and 6 only C (approvals: A 4, B 3, C 2).

    Greedy funds A and B (120; C no longer fits).

    Equal shares (cost utilities, Add1): each voter starts with 120/6 = 20. A costs each of its
    4 supporters 15 and is chosen first; B's 3 supporters then hold 5 each (15 < 60), C's 2 hold
    40 < 60: stop with {A}. Add1 raises the share: at 30 C's supporters can pay 30 each, so A
    and C are funded (120); B becomes affordable after A only at 35 (3 * (35 - 15) = 60), but
    then A, B and C (180) exceed the budget, so the last outcome within it stays: {A, C}, C's
    supporters paying 30 each and A's 15.
    """
    consultation, projects = budget_consultation(factory, {"A": 60, "B": 60, "C": 60})
    a, b, c = projects["A"], projects["B"], projects["C"]
    for _ in range(3):
        factory.ballot(consultation, None, [a, b])
    factory.ballot(consultation, None, [a])
    for _ in range(2):
        factory.ballot(consultation, None, [c])
    return consultation, projects


def extreme_consultation(factory: Factory, author: User) -> Consultation:
    """A budget consultation voting with the largest amounts and the widest dates the forms
    accept, and one project that costs the most a proposal may."""
    consultation = factory.consultation(
        phase=Phase.VOTING,
        voting_method=VotingMethod.BUDGET,
        budget=2_000_000_000,
        collecting_starts_on=date.min,
        voting_starts_on=date.min,
        voting_ends_on=date.max,
        results_on=date.max,
    )
    factory.proposal(consultation, author, estimated_cost=2_000_000_000)
    return consultation
