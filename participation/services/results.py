"""Results of a `support` consultation: the ranking by supports and the choice of its winners.

The ranking orders the published proposals by their supports; equal supports are ordered by
the earlier submission (then the lower id), so every proposal has its own rank and the same
votes always give the same ranking.

Moderators choose the winners while the consultation is evaluating, by one of three rules,
and may then add or remove single proposals by hand, each time with a public reason that the
results page shows next to the proposal (as for the overrides of a budget result). Applying a
rule again starts afresh and clears those changes. Closing the consultation publishes the
results (consultations.phases sets `results_published_at`); only then is the results page public.

Budget consultations are decided by their budget ballots, not by this ranking: every function
here refuses them, and the results page shows a notice instead.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    AuditEvent,
    Consultation,
    Override,
    Proposal,
    User,
)
from participation.services import audit, budgeting, consultations
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_RULE_VALUE = 1_000_000_000


class WinnerRule(enum.Enum):
    TOP_N = "top_n"
    THRESHOLD = "threshold"
    BUDGET_GREEDY = "budget_greedy"


RULE_LABELS = {
    WinnerRule.TOP_N: _l("The most supported proposals (top N)"),
    WinnerRule.THRESHOLD: _l("Every proposal with at least N supports"),
    WinnerRule.BUDGET_GREEDY: _l("The most supported proposals that fit into the budget"),
}


@dataclass(frozen=True)
class RankedProposal:
    rank: int
    proposal: Proposal
    supports: int
    selected: bool
    # Changed by hand against the applied rule (FUND: added, DROP: taken out), and why.
    override: Override | None = None
    override_reason: str | None = None

    @property
    def added_by_decision(self) -> bool:
        """Made a winner by the moderators against the rule (otherwise taken out of them)."""
        return self.override is Override.FUND


@dataclass(frozen=True)
class AppliedRule:
    """The last rule a moderator applied, and whether single proposals were changed after it."""

    rule: WinnerRule
    value: int | None
    changed_by_hand: bool


class Visibility(enum.Enum):
    PUBLIC = "public"  # published: everybody who can see the consultation
    PREVIEW = "preview"  # not yet published: moderators only, while evaluating or closed


def uses_ranking(consultation: Consultation) -> bool:
    return consultation.uses_supports


def visibility(consultation: Consultation, viewer: User | None) -> Visibility | None:
    """Who sees the results page: None means it does not exist for this viewer (404)."""
    if consultation.has_published_results:
        return Visibility.PUBLIC
    is_moderator = bool(viewer is not None and viewer.is_authenticated and viewer.is_moderator)
    if is_moderator and consultation.voting_has_ended:
        return Visibility.PREVIEW
    return None


def get_visible(slug: str, viewer: User | None) -> tuple[Consultation, Visibility]:
    """The consultation whose results page this viewer may see, and how; otherwise NotFound."""
    consultation = consultations.get_visible(slug, viewer)
    seen_as = visibility(consultation, viewer)
    if seen_as is None:
        raise NotFound(_l("This consultation has no results to show yet."))
    return consultation, seen_as


def can_select(consultation: Consultation, actor: User | None) -> bool:
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_moderator
        and uses_ranking(consultation)
        and consultation.is_evaluating
    )


def ranking(consultation: Consultation) -> list[RankedProposal]:
    """The published proposals, most supported first; ties go to the earlier submission."""
    proposals = db.session.scalars(
        db.select(Proposal)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.is_published,
        )
        .order_by(Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc())
        .options(selectinload(Proposal.author), selectinload(Proposal.category))
    )
    return [
        RankedProposal(
            rank=position,
            proposal=proposal,
            supports=proposal.support_count,
            selected=proposal.selected,
            override=proposal.selection_override,
            override_reason=proposal.selection_override_reason,
        )
        for position, proposal in enumerate(proposals, start=1)
    ]


def _check_rule(consultation: Consultation, rule: WinnerRule, value: int | None) -> int | None:
    """The value the rule works with, or a refusal next to the field that is wrong."""
    if rule is WinnerRule.BUDGET_GREEDY:
        if consultation.budget is None:
            raise ValidationFailed(
                {"rule": _l("This consultation has no budget, so no proposals can fit into it.")}
            )
        return None  # the budget decides; a value has no meaning for this rule
    if value is None:
        raise ValidationFailed({"value": _l("Please enter a number for this rule.")})
    lowest = 1 if rule is WinnerRule.TOP_N else 0
    if not lowest <= value <= MAX_RULE_VALUE:
        raise ValidationFailed(
            {"value": _l("Please enter a number of at least %(count)d.", count=lowest)}
        )
    return value


def _winners(
    consultation: Consultation, rows: list[RankedProposal], rule: WinnerRule, value: int | None
) -> list[Proposal]:
    if rule is WinnerRule.TOP_N:
        return [row.proposal for row in rows[:value]]
    if rule is WinnerRule.THRESHOLD:
        return [row.proposal for row in rows if row.supports >= value]
    # Greedy: take each proposal in the order of the ranking if it still fits into what is
    # left of the budget; one that does not fit is skipped and a cheaper one below it may
    # still be taken. A proposal without an estimated cost cannot be weighed against the
    # budget, so it is never taken by this rule (moderators can still select it by hand).
    remaining = consultation.budget or 0
    chosen: list[Proposal] = []
    for row in rows:
        cost = row.proposal.estimated_cost
        if cost is not None and cost <= remaining:
            chosen.append(row.proposal)
            remaining -= cost
    return chosen


def _require_selecting(consultation: Consultation, actor: User | None) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(_l("Only moderators can choose the winners."))
    if not uses_ranking(consultation):
        raise DomainError(
            _l("The winners of a budget consultation are decided by its ballots, not by supports.")
        )
    # Lock the consultation, so a phase change cannot slip in between check and write.
    db.session.refresh(consultation, with_for_update=True)
    if not consultation.is_evaluating:
        raise DomainError(
            _l("Winners can only be chosen while the consultation is being evaluated.")
        )


def select_winners(
    consultation: Consultation, moderator: User, rule: WinnerRule, value: int | None
) -> list[int]:
    """Mark exactly the proposals the rule chooses as winners; returns their ids in rank order."""
    try:
        _require_selecting(consultation, moderator)
        value = _check_rule(consultation, rule, value)
        chosen_ids = [p.id for p in _winners(consultation, ranking(consultation), rule, value)]
        db.session.execute(
            update(Proposal)
            .where(Proposal.consultation_id == consultation.id)
            .where(Proposal.selected.is_(True) | Proposal.selection_override.is_not(None))
            .values(selected=False, selection_override=None, selection_override_reason=None)
        )
        if chosen_ids:
            db.session.execute(
                update(Proposal).where(Proposal.id.in_(chosen_ids)).values(selected=True)
            )
        audit.record(
            actor=moderator,
            action="results.winners_selected",
            subject_type="consultation",
            subject_id=consultation.id,
            consultation=consultation,
            details={"rule": rule.value, "value": value, "selected": chosen_ids},
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(
        log,
        "results.winners_selected",
        actor=moderator,
        subject=consultation,
        rule=rule,
        value=value,
        winners=len(chosen_ids),
    )
    return chosen_ids


def set_selected(
    proposal: Proposal, moderator: User, selected: bool, reason: str | None = None
) -> Proposal:
    """Add one proposal to the winners or take it out, by hand.

    Going against the applied rule needs a public reason (10 to 500 characters); undoing such a
    change, back to what the rule chose, needs none.
    """
    try:
        _require_selecting(proposal.consultation, moderator)
        if not proposal.is_published:
            raise DomainError(_l("Only published proposals can be chosen as winners."))
        if selected == proposal.selected:
            raise DomainError(
                _l("This proposal is a winner already.")
                if selected
                else _l("This proposal is not a winner anyway.")
            )
        previous = proposal.selected
        back_to_rule = proposal.selection_override is not None
        text = None if back_to_rule else budgeting.results.check_reason(reason)
        proposal.selected = selected
        proposal.selection_override = (
            None if back_to_rule else (Override.FUND if selected else Override.DROP)
        )
        proposal.selection_override_reason = text
        audit.record(
            actor=moderator,
            action="results.selection_changed",
            subject_type="proposal",
            subject_id=proposal.id,
            consultation=proposal.consultation,
            details={
                "title": proposal.title,
                "selected": selected,
                "previously": previous,
                "reason": text,
                "back_to_rule": back_to_rule,
            },
        )
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(
        log,
        "results.selection_changed",
        actor=moderator,
        subject=proposal,
        selected=selected,
        back_to_rule=back_to_rule,
    )
    return proposal


def changed_by_hand(rows: list[RankedProposal]) -> list[RankedProposal]:
    """The proposals the moderators added to or took out of the rule's winners, with why."""
    return [row for row in rows if row.override is not None]


def applied_rule(consultation: Consultation, rows: list[RankedProposal]) -> AppliedRule | None:
    """What the page tells readers about how the winners were chosen: the last rule applied,
    and whether proposals of the ranking `rows` are winners (or not) against it by the
    moderators' decision."""
    event = db.session.scalar(
        db.select(AuditEvent)
        .where(
            AuditEvent.consultation_id == consultation.id,
            AuditEvent.action == "results.winners_selected",
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(1)
    )
    if event is None:
        return None
    details = event.details or {}
    try:
        rule = WinnerRule(details.get("rule"))
    except ValueError:
        return None
    return AppliedRule(
        rule=rule, value=details.get("value"), changed_by_hand=bool(changed_by_hand(rows))
    )
