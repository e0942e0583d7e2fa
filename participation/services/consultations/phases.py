"""Moving consultations through their phases: draft -> collecting -> voting -> evaluating -> closed.

Moderators move one step forward at a time; going back is not allowed because votes and
results of the later phases would lose their meaning. Every move is an audit event. Since a
move cannot be undone, moderators are told first what it freezes (`consequences`) and whether
it can be made now (`check_move`).
"""

from __future__ import annotations

import logging

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Consultation,
    Phase,
    Proposal,
    User,
)
from participation.models.base import utcnow
from participation.services import audit, budgeting, notifications
from participation.services.errors import DomainError, NotAllowed

log = logging.getLogger(__name__)


def allowed_next(consultation: Consultation) -> Phase | None:
    return consultation.phase.next


def check_move(consultation: Consultation, to_phase: Phase) -> None:
    """Refuses (DomainError, saying why) a move that cannot be made now."""
    from_phase = consultation.phase
    if to_phase is not from_phase.next:
        raise DomainError(
            _l(
                "A consultation in phase “%(current)s” cannot move to “%(target)s”.",
                current=phase_label(from_phase),
                target=phase_label(to_phase),
            )
        )
    if to_phase is Phase.VOTING:
        _check_ready_for_voting(consultation)
    if to_phase is Phase.CLOSED:
        _check_ready_for_closing(consultation)


def consequences(consultation: Consultation, to_phase: Phase) -> list[LazyString]:
    """What the move changes, in the words a moderator needs before making it."""
    ballots = consultation.uses_ballots
    said: dict[Phase, list[LazyString]] = {
        Phase.COLLECTING: [
            _l("The consultation becomes public: everybody can read it."),
            _l("Citizens can submit, discuss and change proposals."),
        ],
        Phase.VOTING: [
            _l(
                "Proposals are frozen: nobody can submit new ones, and authors can no longer "
                "change or withdraw theirs."
            ),
            _l("Citizens can fill in their budget ballot.")
            if ballots
            else _l("Citizens can support proposals."),
        ],
        Phase.EVALUATING: [
            _l("Votes are frozen: ballots can no longer be filled in or changed.")
            if ballots
            else _l("Votes are frozen: supports can no longer be given or withdrawn."),
            _l("Moderators can then count the ballots and change the result, with reasons.")
            if ballots
            else _l("Moderators can then choose the winners."),
        ],
        Phase.CLOSED: [
            _l("The results are published for everybody, with the ballots for anyone to recount.")
            if ballots
            else _l("The results are published for everybody."),
            _l("The result can no longer be changed, and comments are closed."),
        ],
    }
    return [
        *said.get(to_phase, []),
        _l("Everybody who follows the consultation is notified."),
        _l("This cannot be undone: a consultation never goes back to an earlier phase."),
    ]


def change_phase(consultation: Consultation, to_phase: Phase, actor: User) -> Consultation:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(_l("Only moderators can change the phase of a consultation."))
    # Lock the row so that two moderators clicking at once cannot skip a phase.
    db.session.refresh(consultation, with_for_update=True)
    from_phase = consultation.phase
    check_move(consultation, to_phase)
    consultation.phase = to_phase
    if to_phase is Phase.CLOSED:
        # Closing publishes the results: from now on everybody sees the winners.
        consultation.results_published_at = utcnow()
    audit.record_for_consultation(
        consultation,
        actor,
        "consultation.phase_changed",
        from_value=from_phase.value,
        to_value=to_phase.value,
    )
    notifications.notify_phase(consultation, actor)
    db.session.commit()
    operation(
        log,
        "consultation.phase_changed",
        actor=actor,
        subject=consultation,
        from_phase=from_phase,
        to_phase=to_phase,
    )
    return consultation


def _check_ready_for_voting(consultation: Consultation) -> None:
    published = db.session.scalar(
        db.select(db.func.count())
        .select_from(Proposal)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.is_published,
        )
    )
    if not published:
        raise DomainError(_l("Voting cannot open before at least one proposal is published."))
    if consultation.uses_ballots and not consultation.budget:
        raise DomainError(_l("Voting on a budget cannot open before the budget is set."))


def _check_ready_for_closing(consultation: Consultation) -> None:
    """Closing publishes the results: a budget consultation's ballots must be counted first."""
    if consultation.uses_ballots and budgeting.results.has_ballots_without_tally(consultation):
        raise DomainError(
            _l(
                "Please compute the result first: closing publishes the results, "
                "and the ballots of this consultation have not been counted yet."
            )
        )


def phase_label(phase: Phase) -> str:
    return str(PHASE_LABELS[phase])


PHASE_LABELS = {
    Phase.DRAFT: _l("Draft"),
    Phase.COLLECTING: _l("Collecting proposals"),
    Phase.VOTING: _l("Voting"),
    Phase.EVALUATING: _l("Evaluating"),
    Phase.CLOSED: _l("Closed"),
}
