"""The moderators' public answer to a proposal: under evaluation, accepted or rejected.

An answer always comes with a public explanation, so that citizens learn why; it is shown on
the proposal, filterable in the list, and recorded in the audit log.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l

from participation.extensions import db
from participation.logs import operation
from participation.models import Answer, Proposal, User
from participation.models.base import utcnow
from participation.services import audit, limits, notifications
from participation.services.errors import DomainError, NotAllowed, ValidationFailed

log = logging.getLogger(__name__)

MAX_ANSWER_TEXT_LENGTH = 5000

ANSWER_LABELS = {
    Answer.NONE: _l("Not answered yet"),
    Answer.UNDER_EVALUATION: _l("Under evaluation"),
    Answer.ACCEPTED: _l("Accepted"),
    Answer.REJECTED: _l("Rejected"),
}


def check_answerable(proposal: Proposal, moderator: User | None) -> None:
    """Refuse as answer_proposal() would, before the moderator fills in the form."""
    if moderator is None or not moderator.is_authenticated or not moderator.is_moderator:
        raise NotAllowed(_l("Only moderators can answer proposals."))
    if not proposal.consultation.is_public:
        raise DomainError(_l("Proposals cannot be answered while the consultation is a draft."))
    if not proposal.is_published:
        raise DomainError(_l("Only a published proposal can be answered."))


def can_answer(proposal: Proposal, actor: User | None) -> bool:
    try:
        check_answerable(proposal, actor)
    except DomainError:
        return False
    return True


def answer_proposal(proposal: Proposal, moderator: User, answer: Answer, text: str) -> Proposal:
    """Set (or, with Answer.NONE, take back) the public answer to a published proposal."""
    check_answerable(proposal, moderator)
    text = (text or "").strip()
    if answer is not Answer.NONE and not text:
        raise ValidationFailed(
            {"text": _l("Please explain the answer. The explanation is public.")}
        )
    limits.check_length(
        "text",
        text,
        MAX_ANSWER_TEXT_LENGTH,
        _l("The explanation may have at most %(count)d characters.", count=MAX_ANSWER_TEXT_LENGTH),
    )
    previous, previous_text = proposal.answer, proposal.answer_text
    proposal.answer = answer
    proposal.answer_text = text or None
    proposal.answered_at = utcnow() if proposal.has_answer else None
    audit.record(
        actor=moderator,
        action="proposal.answered",
        subject_type="proposal",
        subject_id=proposal.id,
        consultation=proposal.consultation,
        from_value=previous.value,
        to_value=answer.value,
        details={"proposal_id": proposal.id, "title": proposal.title, "text": text},
    )
    if (previous, previous_text) != (answer, proposal.answer_text):
        notifications.notify_answer(proposal, moderator)
    db.session.commit()
    operation(log, "proposal.answered", actor=moderator, subject=proposal, answer=answer)
    return proposal
