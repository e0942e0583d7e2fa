"""Results of a `budget` consultation: counting its stored ballots, overrides, the results page.

The projects are the published proposals with an estimated cost; a ballot's choices of
proposals that were hidden or withdrawn since are dropped, and a ballot left empty by that (or
submitted empty) still counts as a voter: under equal shares every voter holds a share of the
budget, whether they spend it or not.

A moderator computes the result while the consultation is evaluating, with the rule announced
before voting and the comparison rule shown next to it (budgeting.tally). The count is stored
as a Tally with one entry per project; computing again replaces it, and with it every
override. After computing, a moderator may fund a project the rule left out or drop one it
chose, always with a public reason; an override that overshoots the budget is allowed (a city
may accept a small overshoot) and the page shows the overshoot. `Proposal.selected` always
holds the final outcome, so promotion and the exports see the same winners.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Consultation,
    Override,
    Proposal,
    Tally,
    TallyEntry,
    TallyRule,
    User,
)
from participation.models.base import utcnow
from participation.services import audit, limits
from participation.services.budgeting import tally
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MIN_REASON_LENGTH = 10
MAX_REASON_LENGTH = 500
EQUAL_SHARES_RULES = (TallyRule.EQUAL_SHARES, TallyRule.EQUAL_SHARES_GREEDY)

RULE_LABELS = {
    TallyRule.GREEDY: _l("Greedy (most approvals first)"),
    TallyRule.EQUAL_SHARES: _l("Method of Equal Shares"),
    TallyRule.EQUAL_SHARES_GREEDY: _l("Method of Equal Shares, rest spent greedily"),
}


# Building the election from the database


def projects_of(consultation: Consultation) -> list[Proposal]:
    """The projects on the ballot: published proposals with an estimated cost, oldest first."""
    return list(
        db.session.scalars(
            db.select(Proposal)
            .where(
                Proposal.consultation_id == consultation.id,
                Proposal.is_on_ballot,
            )
            .order_by(Proposal.created_at, Proposal.id)
        )
    )


def ballot_count(consultation: Consultation) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Ballot)
        .where(Ballot.consultation_id == consultation.id)
    )


def paper_ballots(consultation: Consultation) -> int:
    """How many of the consultation's ballots were entered from paper."""
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Ballot)
        .where(Ballot.consultation_id == consultation.id, Ballot.channel == BallotChannel.PAPER)
    )


def code_order() -> ColumnElement[str]:
    """Ballots sorted by their code, byte for byte (on PostgreSQL whatever the database's
    collation, as Python's `sorted` does): the codes are random, so no list of ballots, in a
    file or in the count, shows the order in which they were cast."""
    if db.session.get_bind().dialect.name == "postgresql":
        return Ballot.code.collate("C")
    return Ballot.code  # SQLite compares text byte for byte


def ballots_of(consultation: Consultation, projects: list[Proposal]) -> list[tuple[str, list[int]]]:
    """Each ballot's code and the projects it approves (in the order of `projects`), ballots in
    code order: what the count reads and the exported files list.

    Two queries whatever the number of ballots: the codes, and all their choices at once,
    grouped here (a consultation may hold tens of thousands of ballots). Choices of other
    proposals (hidden or withdrawn since) are dropped.
    """
    position = {proposal.id: index for index, proposal in enumerate(projects)}
    ballots = db.session.execute(
        db.select(Ballot.id, Ballot.code)
        .where(Ballot.consultation_id == consultation.id)
        .order_by(code_order())
    ).all()
    chosen: dict[int, list[int]] = defaultdict(list)
    rows = db.session.execute(
        db.select(BallotChoice.ballot_id, BallotChoice.proposal_id)
        .join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.consultation_id == consultation.id)
    )
    for ballot_id, proposal_id in rows:
        if proposal_id in position:
            chosen[ballot_id].append(proposal_id)
    for choices in chosen.values():
        choices.sort(key=position.__getitem__)
    return [(code, chosen.get(ballot_id, [])) for ballot_id, code in ballots]


def election_for(consultation: Consultation) -> tuple[tally.Election, list[Proposal]]:
    """The consultation's ballots as the counting rules see them (in the order of the exported
    files), and its projects."""
    projects = projects_of(consultation)
    costs = {str(proposal.id): proposal.estimated_cost for proposal in projects}
    election = tally.Election.build(
        consultation.budget or 0,
        costs,
        (
            [str(project) for project in chosen]
            for _code, chosen in ballots_of(consultation, projects)
        ),
    )
    return election, projects


# Who may do what


def _is_moderator(actor: User | None) -> bool:
    return bool(actor is not None and actor.is_authenticated and actor.is_moderator)


def can_compute(consultation: Consultation, actor: User | None) -> bool:
    return _is_moderator(actor) and consultation.uses_ballots and consultation.is_evaluating


def _require_evaluating(consultation: Consultation, actor: User | None, what) -> None:
    if not _is_moderator(actor):
        raise NotAllowed(_l("Only moderators can count the ballots and change the result."))
    if not consultation.uses_ballots:
        raise DomainError(_l("This consultation is decided by supports, not by budget ballots."))
    # Lock the consultation, so a phase change cannot slip in between check and write.
    db.session.refresh(consultation, with_for_update=True)
    if not consultation.is_evaluating:
        raise DomainError(what)


def tally_of(consultation: Consultation) -> Tally | None:
    return db.session.scalar(db.select(Tally).where(Tally.consultation_id == consultation.id))


# Computing


def _share_cents(rule: TallyRule, outcome: tally.Outcome, project: str) -> int | None:
    if rule not in EQUAL_SHARES_RULES or project not in outcome.shares:
        return None
    return math.ceil(outcome.shares[project] * 100)


def compute(consultation: Consultation, moderator: User) -> Tally:
    """Count the ballots with the announced rule and the comparison rule; replaces the last
    count and clears its overrides."""
    try:
        _require_evaluating(
            consultation,
            moderator,
            _l("The result can only be computed while the consultation is being evaluated."),
        )
        record = _count(consultation, moderator)
        rule, ballots = record.rule, record.ballot_count
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(
        log,
        "results.computed",
        actor=moderator,
        subject=consultation,
        rule=rule,
        ballots=ballots,
    )
    return record


def count_imported(consultation: Consultation) -> Tally:
    """Count an election imported from a pabulib file (`flask pb import`), in the caller's
    transaction: nobody computed it, the file's ballots did."""
    return _count(consultation, None)


def _count(consultation: Consultation, actor: User | None) -> Tally:
    if not consultation.budget:
        raise DomainError(_l("The result cannot be computed without a budget."))
    election, projects = election_for(consultation)
    rule = consultation.tally_rule
    comparison = tally.comparison_rule(rule)
    outcome = tally.count(election, rule, consultation.min_approvals)
    other = tally.count(election, comparison, consultation.min_approvals)

    record = tally_of(consultation)
    cleared = 0
    if record is None:
        record = Tally(consultation_id=consultation.id)
        db.session.add(record)
    else:
        cleared = db.session.scalar(
            db.select(db.func.count())
            .select_from(TallyEntry)
            .where(TallyEntry.tally_id == record.id, TallyEntry.override.is_not(None))
        )
        db.session.execute(delete(TallyEntry).where(TallyEntry.tally_id == record.id))
        db.session.expire(record, ["entries"])
    record.rule = rule
    record.comparison_rule = comparison
    record.min_approvals = consultation.min_approvals
    record.budget = consultation.budget
    record.ballot_count = len(election.ballots)
    record.paper_ballot_count = paper_ballots(consultation)
    record.computed_at = utcnow()
    record.computed_by_id = actor.id if actor else None
    db.session.flush()

    positions = {project: number for number, project in enumerate(outcome.funded, start=1)}
    compared = set(other.funded)
    approvals = election.approvals
    db.session.add_all(
        TallyEntry(
            tally_id=record.id,
            proposal_id=proposal.id,
            cost=proposal.estimated_cost,
            approvals=approvals[str(proposal.id)],
            funded_by_rule=str(proposal.id) in positions,
            position=positions.get(str(proposal.id)),
            share_cents=_share_cents(rule, outcome, str(proposal.id)),
            funded_by_comparison=str(proposal.id) in compared,
        )
        for proposal in projects
    )
    _mark_selected(consultation, [int(project) for project in outcome.funded])
    audit.record(
        actor=actor,
        action="results.computed",
        subject_type="consultation",
        subject_id=consultation.id,
        consultation=consultation,
        to_value=rule.value,
        details={
            "rule": rule.value,
            "comparison_rule": comparison.value,
            "min_approvals": consultation.min_approvals,
            "ballots": len(election.ballots),
            "budget": consultation.budget,
            "funded": [int(project) for project in outcome.funded],
            "cost": int(outcome.cost),
            "left_over": int(outcome.left_over),
            "comparison_funded": [int(project) for project in other.funded],
            "comparison_cost": int(other.cost),
            "overrides_cleared": cleared,
        },
    )
    return record


def _mark_selected(consultation: Consultation, funded_ids: list[int]) -> None:
    """`Proposal.selected` holds the final outcome for every proposal of the consultation."""
    db.session.execute(
        update(Proposal)
        .where(Proposal.consultation_id == consultation.id, Proposal.selected.is_(True))
        .values(selected=False)
    )
    if funded_ids:
        db.session.execute(
            update(Proposal).where(Proposal.id.in_(funded_ids)).values(selected=True)
        )


# Overrides


def _changeable_entry(
    consultation: Consultation, moderator: User | None, proposal: Proposal
) -> TallyEntry:
    """The project's entry in the stored result, for a moderator to change while evaluating."""
    _require_evaluating(
        consultation,
        moderator,
        _l("The result can only be changed while the consultation is being evaluated."),
    )
    record = tally_of(consultation)
    if record is None:
        raise DomainError(_l("Please compute the result first."))
    entry = db.session.scalar(
        db.select(TallyEntry).where(
            TallyEntry.tally_id == record.id, TallyEntry.proposal_id == proposal.id
        )
    )
    if entry is None:
        raise NotFound(_l("This project is not part of the result."))
    return entry


def check_reason(reason: str | None) -> str:
    """The public reason of a decision against a rule's outcome, tidied; or a refusal."""
    text = " ".join((reason or "").split())
    if not text:
        raise ValidationFailed({"reason": _l("Please give the public reason for the override.")})
    if len(text) < MIN_REASON_LENGTH:
        raise ValidationFailed(
            {
                "reason": _l(
                    "Please explain the override in at least %(count)d characters.",
                    count=MIN_REASON_LENGTH,
                )
            }
        )
    limits.check_length(
        "reason",
        text,
        MAX_REASON_LENGTH,
        _l("The reason may have at most %(count)d characters.", count=MAX_REASON_LENGTH),
    )
    return text


def override(
    consultation: Consultation, moderator: User, proposal: Proposal, fund: bool, reason: str
) -> TallyEntry:
    """Fund a project the rule left out (fund=True) or drop one it chose, with a public reason.

    Going back to the rule's own outcome is `clear_override`, not an override.
    """
    try:
        entry = _changeable_entry(consultation, moderator, proposal)
        if fund == entry.funded_by_rule:
            raise DomainError(
                _l("The rule already funds this project.")
                if fund
                else _l("The rule does not fund this project anyway.")
            )
        text = check_reason(reason)
        entry.override = Override.FUND if fund else Override.DROP
        entry.override_reason = text
        proposal.selected = entry.funded
        audit.record(
            actor=moderator,
            action="results.overridden",
            subject_type="proposal",
            subject_id=proposal.id,
            consultation=consultation,
            to_value=entry.override.value,
            details={"title": proposal.title, "fund": fund, "reason": text},
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(
        log,
        "results.overridden",
        actor=moderator,
        subject=proposal,
        consultation=consultation,
        fund=fund,
    )
    return entry


def clear_override(consultation: Consultation, moderator: User, proposal: Proposal) -> TallyEntry:
    """Back to the rule's own outcome for this project."""
    try:
        entry = _changeable_entry(consultation, moderator, proposal)
        if entry.override is None:
            raise DomainError(_l("This project has no override."))
        previous, reason = entry.override, entry.override_reason
        entry.override = None
        entry.override_reason = None
        proposal.selected = entry.funded
        audit.record(
            actor=moderator,
            action="results.override_cleared",
            subject_type="proposal",
            subject_id=proposal.id,
            consultation=consultation,
            from_value=previous.value,
            details={"title": proposal.title, "previous_reason": reason},
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(
        log,
        "results.override_cleared",
        actor=moderator,
        subject=proposal,
        consultation=consultation,
        previous=previous,
    )
    return entry


# The results page


@dataclass(frozen=True)
class ResultRow:
    proposal: Proposal
    cost: int
    approvals: int
    funded_by_rule: bool
    position: int | None
    # Equal shares: the most one supporter paid for the project, in cents.
    share_cents: int | None
    override: Override | None
    override_reason: str | None
    funded: bool
    funded_by_comparison: bool
    below_min_approvals: bool

    @property
    def funded_by_decision(self) -> bool:
        """Funded by the moderators against the rule (an override the other way drops it)."""
        return self.override is Override.FUND


@dataclass(frozen=True)
class Totals:
    budget: int
    spent_by_rule: int
    spent: int
    spent_by_comparison: int

    @property
    def left_over(self) -> int:
        """What is left of the budget after the final outcome; negative is an overshoot."""
        return self.budget - self.spent

    @property
    def overshoot(self) -> int:
        return max(0, -self.left_over)

    @property
    def left_over_by_rule(self) -> int:
        return self.budget - self.spent_by_rule

    @property
    def left_over_by_comparison(self) -> int:
        return self.budget - self.spent_by_comparison


@dataclass(frozen=True)
class BudgetResults:
    rule: TallyRule
    comparison_rule: TallyRule
    min_approvals: int | None
    ballot_count: int
    paper_count: int  # of the ballot_count: ballots entered from paper (services.budgeting.paper)
    computed_at: datetime
    # Most approved first (then the cheaper, then the older proposal).
    rows: list[ResultRow]
    totals: Totals

    @property
    def shows_shares(self) -> bool:
        return self.rule in EQUAL_SHARES_RULES

    @property
    def overrides(self) -> list[ResultRow]:
        return [row for row in self.rows if row.override is not None]

    @property
    def max_approvals(self) -> int:
        return max((row.approvals for row in self.rows), default=0)

    @property
    def funded_rows(self) -> list[ResultRow]:
        return [row for row in self.rows if row.funded]

    @property
    def only_by_rule(self) -> list[ResultRow]:
        """Funded by the announced rule, not by the comparison rule."""
        return [row for row in self.rows if row.funded_by_rule and not row.funded_by_comparison]

    @property
    def only_by_comparison(self) -> list[ResultRow]:
        return [row for row in self.rows if row.funded_by_comparison and not row.funded_by_rule]


def view(consultation: Consultation) -> BudgetResults | None:
    """What the results page shows, or None while nothing has been computed."""
    record = db.session.scalar(
        db.select(Tally)
        .where(Tally.consultation_id == consultation.id)
        .options(
            selectinload(Tally.entries)
            .selectinload(TallyEntry.proposal)
            .selectinload(Proposal.category)
        )
    )
    if record is None:
        return None
    threshold = record.min_approvals or 0
    rows = [
        ResultRow(
            proposal=entry.proposal,
            cost=entry.cost,
            approvals=entry.approvals,
            funded_by_rule=entry.funded_by_rule,
            position=entry.position,
            share_cents=entry.share_cents,
            override=entry.override,
            override_reason=entry.override_reason,
            funded=entry.funded,
            funded_by_comparison=entry.funded_by_comparison,
            below_min_approvals=entry.approvals < threshold,
        )
        for entry in record.entries
    ]
    rows.sort(key=lambda row: (-row.approvals, row.cost, row.proposal.created_at, row.proposal.id))
    totals = Totals(
        budget=record.budget,
        spent_by_rule=sum(row.cost for row in rows if row.funded_by_rule),
        spent=sum(row.cost for row in rows if row.funded),
        spent_by_comparison=sum(row.cost for row in rows if row.funded_by_comparison),
    )
    return BudgetResults(
        rule=record.rule,
        comparison_rule=record.comparison_rule,
        min_approvals=record.min_approvals,
        ballot_count=record.ballot_count,
        paper_count=record.paper_ballot_count,
        computed_at=record.computed_at,
        rows=rows,
        totals=totals,
    )


def published_approvals(proposals: Iterable[Proposal]) -> dict[int, int]:
    """The approvals of the given budget projects whose results are public, by proposal id, in
    one query: what counts in a budget consultation, shown where a support consultation shows
    supports. Projects whose results are not published yet are left out (nothing is shown)."""
    ids = [
        proposal.id
        for proposal in proposals
        if proposal.consultation.uses_ballots and proposal.consultation.has_published_results
    ]
    if not ids:
        return {}
    rows = db.session.execute(
        db.select(TallyEntry.proposal_id, TallyEntry.approvals).where(
            TallyEntry.proposal_id.in_(ids)
        )
    )
    return {proposal_id: approvals for proposal_id, approvals in rows}


def has_ballots_without_tally(consultation: Consultation) -> bool:
    """Closing such a consultation would publish results that were never counted."""
    return tally_of(consultation) is None and ballot_count(consultation) > 0
