"""Funded initiatives: promoting a winning proposal, tracking it, and its public progress updates.

A proposal becomes an initiative when it won (selected in the results, or answered
"accepted") and its consultation is evaluating or closed; each proposal at most once (the
database enforces it with a unique constraint as well).

Status and progress must agree: a completed initiative is 100 % done. Where the moderator
gives a progress that contradicts "completed", the input is refused (it is probably a slip);
a progress update that marks the initiative completed without a progress sets it to 100.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Answer,
    Consultation,
    Initiative,
    InitiativeStatus,
    InitiativeUpdate,
    Proposal,
    Tally,
    TallyEntry,
    User,
)
from participation.services import audit, notifications
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_BUDGET = 2_000_000_000
MAX_TITLE_LENGTH = 160
MAX_RESPONSIBLE_BODY_LENGTH = 200
MAX_UPDATE_LENGTH = 5_000

STATUS_LABELS = {
    InitiativeStatus.PLANNED: _l("Planned"),
    InitiativeStatus.IN_PROGRESS: _l("In progress"),
    InitiativeStatus.COMPLETED: _l("Completed"),
    InitiativeStatus.CANCELLED: _l("Cancelled"),
}


@dataclass
class InitiativeSettings:
    """What a moderator fills in when promoting a proposal or editing its initiative."""

    responsible_body: str
    allocated_budget: int | None = None
    status: InitiativeStatus = InitiativeStatus.PLANNED
    progress_percent: int = 0
    title: str | None = None


def _require_moderator(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(_l("Only moderators can manage initiatives."))


def _progress_problem(progress: int | None) -> str | None:
    if progress is not None and not 0 <= progress <= 100:
        return _l("The progress must be between 0 and 100 percent.")
    return None


def _completed_problem(status: InitiativeStatus, progress: int) -> str | None:
    if status is InitiativeStatus.COMPLETED and progress != 100:
        return _l("A completed initiative is 100 percent done: please set the progress to 100.")
    return None


def _check(settings: InitiativeSettings) -> InitiativeSettings:
    """The settings cleaned up, or every problem at once."""
    errors: dict = {}
    body = " ".join((settings.responsible_body or "").split())
    if not body:
        errors["responsible_body"] = _l("Please name the responsible body.")
    elif len(body) > MAX_RESPONSIBLE_BODY_LENGTH:
        errors["responsible_body"] = _l(
            "The name may have at most %(count)d characters.", count=MAX_RESPONSIBLE_BODY_LENGTH
        )
    title = " ".join((settings.title or "").split()) or None
    if title is not None and len(title) > MAX_TITLE_LENGTH:
        errors["title"] = _l("The title may have at most %(count)d characters.", count=160)
    budget = settings.allocated_budget
    if budget is not None and not 0 <= budget <= MAX_BUDGET:
        errors["allocated_budget"] = _l("Please enter a budget between 0 and 2,000,000,000.")
    if settings.progress_percent is None:
        problem = _l("Please enter the progress in percent.")
    else:
        problem = _progress_problem(settings.progress_percent) or _completed_problem(
            settings.status, settings.progress_percent
        )
    if problem:
        errors["progress_percent"] = problem
    if errors:
        raise ValidationFailed(errors)
    return InitiativeSettings(
        responsible_body=body,
        allocated_budget=budget,
        status=settings.status,
        progress_percent=settings.progress_percent,
        title=title,
    )


def _apply(initiative: Initiative, settings: InitiativeSettings) -> None:
    """Write checked settings onto the initiative; without a title it keeps the one it has."""
    initiative.title = settings.title or initiative.title
    initiative.allocated_budget = settings.allocated_budget
    initiative.responsible_body = settings.responsible_body
    initiative.status = settings.status
    initiative.progress_percent = settings.progress_percent


def is_winner(proposal: Proposal) -> bool:
    return proposal.selected or proposal.answer is Answer.ACCEPTED


def initiative_for(proposal: Proposal) -> Initiative | None:
    return db.session.scalar(db.select(Initiative).where(Initiative.proposal_id == proposal.id))


def promotion_problem(proposal: Proposal) -> str | None:
    """Why this proposal cannot become an initiative now, or None if it can."""
    if not proposal.is_published:
        return _l("A withdrawn or hidden proposal cannot become an initiative.")
    if not is_winner(proposal):
        return _l(
            "Only a winning proposal (selected in the results or accepted) "
            "can become an initiative."
        )
    if not proposal.consultation.voting_has_ended:
        return _l("Proposals become initiatives once the consultation is evaluated or closed.")
    if initiative_for(proposal) is not None:
        return _l("This proposal is already an initiative.")
    return None


def can_promote(proposal: Proposal, actor: User | None) -> bool:
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_moderator
        and promotion_problem(proposal) is None
    )


def promote(
    proposal: Proposal,
    moderator: User,
    allocated_budget: int | None,
    responsible_body: str,
    status: InitiativeStatus,
    progress_percent: int,
    title: str | None = None,
) -> Initiative:
    """Turn a winning proposal into a funded initiative."""
    _require_moderator(moderator)
    problem = promotion_problem(proposal)
    if problem:
        raise DomainError(problem)
    settings = _check(
        InitiativeSettings(responsible_body, allocated_budget, status, progress_percent, title)
    )
    initiative = Initiative(
        proposal=proposal, consultation_id=proposal.consultation_id, title=proposal.title
    )
    _apply(initiative, settings)
    db.session.add(initiative)
    try:
        db.session.flush()
    except IntegrityError as error:  # another moderator promoted it a moment ago
        db.session.rollback()
        raise DomainError(_l("This proposal is already an initiative.")) from error
    _record(initiative, moderator, "initiative.created", _snapshot(initiative))
    notifications.notify_promoted(initiative, moderator)
    db.session.commit()
    _log_created(initiative, moderator, proposal)
    return initiative


def _log_created(initiative: Initiative, moderator: User, proposal: Proposal | int) -> None:
    operation(log, "initiative.created", actor=moderator, subject=initiative, proposal=proposal)


def _record(initiative: Initiative, moderator: User, action: str, details: dict) -> None:
    """An audit event about an initiative, in its consultation's log."""
    audit.record(
        actor=moderator,
        action=action,
        subject_type="initiative",
        subject_id=initiative.id,
        consultation=initiative.consultation,
        details={"proposal_id": initiative.proposal_id, **details},
    )


def _snapshot(initiative: Initiative) -> dict:
    return {
        "title": initiative.title,
        "allocated_budget": initiative.allocated_budget,
        "responsible_body": initiative.responsible_body,
        "status": initiative.status.value,
        "progress_percent": initiative.progress_percent,
    }


def update_initiative(
    initiative: Initiative,
    moderator: User,
    allocated_budget: int | None,
    responsible_body: str,
    status: InitiativeStatus,
    progress_percent: int,
    title: str | None = None,
) -> Initiative:
    """Change what was decided about an initiative; the audit event keeps old and new values."""
    _require_moderator(moderator)
    settings = _check(
        InitiativeSettings(responsible_body, allocated_budget, status, progress_percent, title)
    )
    before = _snapshot(initiative)
    _apply(initiative, settings)
    after = _snapshot(initiative)
    _record(
        initiative,
        moderator,
        "initiative.edited",
        {
            "title": initiative.title,
            "changes": {
                name: {"from": before[name], "to": after[name]}
                for name in after
                if before[name] != after[name]
            },
        },
    )
    db.session.commit()
    operation(log, "initiative.edited", actor=moderator, subject=initiative)
    return initiative


def post_update(
    initiative: Initiative,
    moderator: User,
    happened_on: date | None,
    body: str,
    status: InitiativeStatus | None = None,
    progress_percent: int | None = None,
) -> InitiativeUpdate:
    """A dated public note; a status or progress given with it applies to the initiative."""
    _require_moderator(moderator)
    errors: dict = {}
    text = (body or "").strip()
    if not text:
        errors["body"] = _l("Please describe what happened.")
    elif len(text) > MAX_UPDATE_LENGTH:
        errors["body"] = _l("The update may have at most %(count)d characters.", count=5000)
    if happened_on is None:
        errors["happened_on"] = _l("Please enter the date.")
    if status is InitiativeStatus.COMPLETED and progress_percent is None:
        progress_percent = 100  # completing it means it is done
    problem = _progress_problem(progress_percent)
    if problem is None:
        problem = _completed_problem(
            status or initiative.status,
            initiative.progress_percent if progress_percent is None else progress_percent,
        )
    if problem:
        errors["progress_percent"] = problem
    if errors:
        raise ValidationFailed(errors)
    update = InitiativeUpdate(
        initiative=initiative,
        author=moderator,
        happened_on=happened_on,
        body=text,
        status=status,
        progress_percent=progress_percent,
    )
    db.session.add(update)
    if status is not None:
        initiative.status = status
    if progress_percent is not None:
        initiative.progress_percent = progress_percent
    db.session.flush()
    _record(
        initiative,
        moderator,
        "initiative.update_posted",
        {
            "title": initiative.title,
            "update_id": update.id,
            "happened_on": happened_on.isoformat(),
            "status": status.value if status else None,
            "progress_percent": progress_percent,
        },
    )
    notifications.notify_initiative_update(update, moderator)
    db.session.commit()
    operation(log, "initiative.update_posted", actor=moderator, subject=initiative, update=update)
    return update


def get(initiative_id: int) -> Initiative:
    """Initiatives are public once they exist: their consultation is evaluating or closed."""
    initiative = db.session.get(Initiative, initiative_id)
    if initiative is None or not initiative.consultation.is_public:
        raise NotFound(_l("This initiative does not exist."))
    return initiative


@dataclass
class InitiativeQuery:
    consultation_slug: str | None = None
    status: InitiativeStatus | None = None
    page: int = 1
    per_page: int = 20


def search(query: InitiativeQuery) -> Pagination:
    """The public list: newest first, optionally of one consultation and in one status."""
    statement = (
        db.select(Initiative)
        .join(Initiative.consultation)
        .where(Consultation.is_public)
        .options(selectinload(Initiative.consultation), selectinload(Initiative.proposal))
    )
    if query.consultation_slug:
        statement = statement.where(Consultation.slug == query.consultation_slug)
    if query.status is not None:
        statement = statement.where(Initiative.status == query.status)
    statement = statement.order_by(Initiative.created_at.desc(), Initiative.id.desc())
    return db.paginate(
        statement, page=max(query.page, 1), per_page=query.per_page, error_out=False, count=True
    )


def consultations_with_initiatives() -> list[Consultation]:
    """The choices of the list's consultation filter."""
    return list(
        db.session.scalars(
            db.select(Consultation)
            .where(
                Consultation.is_public,
                Consultation.id.in_(db.select(Initiative.consultation_id)),
            )
            .order_by(Consultation.title)
        )
    )


def initiatives_by_proposal(consultation: Consultation) -> dict[int, Initiative]:
    """The initiatives of a consultation by proposal id, for the results page."""
    return {
        initiative.proposal_id: initiative
        for initiative in db.session.scalars(
            db.select(Initiative).where(Initiative.consultation_id == consultation.id)
        )
    }


def can_promote_funded(consultation: Consultation, actor: User | None) -> bool:
    return bool(
        actor is not None
        and actor.is_authenticated
        and actor.is_moderator
        and consultation.uses_ballots
        and consultation.is_closed
    )


def promote_funded(
    consultation: Consultation, moderator: User, responsible_body: str = ""
) -> list[Initiative]:
    """Every project a closed budget consultation funds becomes an initiative, in one step.

    The allocated budget is the project's cost. Projects that are initiatives already are left
    as they are, so running it again creates nothing; returns the initiatives it created.
    """
    _require_moderator(moderator)
    if not consultation.uses_ballots:
        raise DomainError(_l("Only the projects of a budget consultation are promoted together."))
    db.session.refresh(consultation, with_for_update=True)
    if not consultation.is_closed:
        raise DomainError(
            _l("The funded projects become initiatives once the consultation is closed.")
        )
    body = " ".join((responsible_body or "").split()) or None
    if body is not None and len(body) > MAX_RESPONSIBLE_BODY_LENGTH:
        raise ValidationFailed(
            {
                "responsible_body": _l(
                    "The name may have at most %(count)d characters.",
                    count=MAX_RESPONSIBLE_BODY_LENGTH,
                )
            }
        )
    entries = db.session.scalars(
        db.select(TallyEntry)
        .join(Tally, Tally.id == TallyEntry.tally_id)
        .where(Tally.consultation_id == consultation.id)
        .options(selectinload(TallyEntry.proposal))
        .order_by(TallyEntry.position.is_(None), TallyEntry.position, TallyEntry.id)
    ).all()
    existing = set(initiatives_by_proposal(consultation))
    created = []
    for entry in entries:
        proposal = entry.proposal
        if not entry.funded or proposal.id in existing or not proposal.is_published:
            continue
        initiative = Initiative(
            proposal=proposal,
            consultation_id=consultation.id,
            title=proposal.title,
            allocated_budget=entry.cost,
            responsible_body=body,
            status=InitiativeStatus.PLANNED,
            progress_percent=0,
        )
        db.session.add(initiative)
        created.append(initiative)
    try:
        db.session.flush()
    except IntegrityError as error:  # another moderator promoted some of them a moment ago
        db.session.rollback()
        raise DomainError(
            _l("Some of these projects became initiatives meanwhile; please try again.")
        ) from error
    proposal_ids = [initiative.proposal_id for initiative in created]
    for initiative in created:
        _record(initiative, moderator, "initiative.created", _snapshot(initiative))
        notifications.notify_promoted(initiative, moderator)
    db.session.commit()
    for initiative, proposal_id in zip(created, proposal_ids, strict=True):
        _log_created(initiative, moderator, proposal_id)
    return created
