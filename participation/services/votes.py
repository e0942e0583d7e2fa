"""Voting: citizens support proposals while a `support` consultation is voting.

One support per citizen per proposal: the database refuses a second row, and the service checks
first so that supporting twice is simply "already supported". The optional cap of supports per
citizen is checked in the same transaction after locking the citizen's row, so two supports sent
at the same moment are counted one after the other and can never exceed it together.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Consultation,
    Phase,
    Proposal,
    Support,
    User,
)
from participation.services import accounts
from participation.services.errors import DomainError, NotAllowed

log = logging.getLogger(__name__)

NOT_VOTING = _l("Proposals can only be supported while the consultation is in the voting phase.")
NOT_WITHDRAWABLE = _l(
    "Supports can only be withdrawn while the consultation is in the voting phase."
)


@dataclass(frozen=True)
class SupportState:
    """What one citizen sees of one proposal's supports after (or without) acting."""

    proposal_id: int
    supported: bool
    count: int
    cap: int | None = None
    used: int = 0

    @property
    def remaining(self) -> int | None:
        """Supports the citizen still has in the consultation; None when there is no cap."""
        return None if self.cap is None else max(self.cap - self.used, 0)

    @property
    def can_support(self) -> bool:
        return not self.supported and self.remaining != 0


def is_open_for_supports(consultation: Consultation) -> bool:
    return consultation.uses_supports and consultation.is_voting


def _require_citizen(user: User | None) -> User:
    if getattr(user, "is_blocked", False):  # checked first: a blocked user is not "active"
        raise NotAllowed(_l("Your account is blocked, so you cannot support proposals."))
    if user is None or not user.is_authenticated:
        raise NotAllowed(_l("Please log in to support proposals."))
    return accounts.require_confirmed(user)


def _require_voting(consultation: Consultation, closed: LazyString) -> None:
    if not consultation.uses_supports:
        raise DomainError(
            _l("In this consultation you vote with a budget ballot, not with supports.")
        )
    if not consultation.is_voting:
        raise DomainError(closed)


def _lock_citizen(user_id: int) -> None:
    """Serialise one citizen's supports until the end of the transaction.

    PostgreSQL locks the user's row. SQLite ignores FOR UPDATE, so there a write that changes
    nothing takes the database's write lock instead (SQLite has one writer at a time).
    """
    db.session.execute(select(User).where(User.id == user_id).with_for_update())
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(updated_at=User.updated_at)
            .execution_options(synchronize_session=False)
        )


def require_still_voting(consultation_id: int, closed: LazyString) -> None:
    """Read the phase again under a shared lock: a phase change waits for the votes (supports
    or ballots) in flight, and a vote that waited for a phase change sees the new phase."""
    phase = db.session.scalar(
        select(Consultation.phase)
        .where(Consultation.id == consultation_id)
        .with_for_update(read=True)
    )
    if phase is not Phase.VOTING:
        raise DomainError(closed)


def _find(proposal_id: int, user_id: int) -> Support | None:
    return db.session.scalar(
        select(Support).where(Support.proposal_id == proposal_id, Support.user_id == user_id)
    )


def _used(consultation_id: int, user_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Support)
        .where(Support.consultation_id == consultation_id, Support.user_id == user_id)
    )


def _change_count(proposal_id: int, delta: int) -> None:
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(support_count=Proposal.support_count + delta)
        .execution_options(synchronize_session=False)
    )


def support(proposal: Proposal, user: User | None) -> SupportState:
    """Support a published proposal; supporting it again changes nothing."""
    from participation.services.budgeting import electorate  # budgeting imports this module

    user = _require_citizen(user)
    consultation = proposal.consultation
    _require_voting(consultation, NOT_VOTING)
    electorate.require_may_vote(consultation, user)
    if not proposal.is_published:
        raise DomainError(_l("A withdrawn or hidden proposal cannot be supported."))
    proposal_id, consultation_id, user_id = proposal.id, consultation.id, user.id
    cap = consultation.max_supports
    given = False
    try:
        _lock_citizen(user_id)
        require_still_voting(consultation_id, NOT_VOTING)
        if _find(proposal_id, user_id) is None:
            if cap is not None and _used(consultation_id, user_id) >= cap:
                raise DomainError(
                    _l(
                        "You have already used all your %(count)d supports. Withdraw one of "
                        "them to support this proposal.",
                        count=cap,
                    )
                )
            db.session.add(
                Support(proposal_id=proposal_id, consultation_id=consultation_id, user_id=user_id)
            )
            db.session.flush()
            _change_count(proposal_id, +1)
            given = True
        db.session.commit()
    except IntegrityError:
        # The same support arrived at the same moment in another request and won: the citizen
        # supports the proposal, which is what they asked for.
        db.session.rollback()
    except DomainError:
        db.session.rollback()
        raise
    if given:
        operation(
            log,
            "support.given",
            actor=user_id,
            subject=proposal_id,
            consultation=consultation_id,
        )
    return state(proposal, user)


def withdraw_support(proposal: Proposal, user: User | None) -> SupportState:
    """Take a support back while voting is open; withdrawing twice changes nothing."""
    user = _require_citizen(user)
    _require_voting(proposal.consultation, NOT_WITHDRAWABLE)
    proposal_id, consultation_id, user_id = proposal.id, proposal.consultation_id, user.id
    try:
        _lock_citizen(user_id)
        require_still_voting(consultation_id, NOT_WITHDRAWABLE)
    except DomainError:
        db.session.rollback()
        raise
    removed = db.session.execute(
        delete(Support).where(Support.proposal_id == proposal_id, Support.user_id == user_id)
    ).rowcount
    if removed:
        _change_count(proposal_id, -removed)
    db.session.commit()
    if removed:
        operation(
            log,
            "support.withdrawn",
            actor=user_id,
            subject=proposal_id,
            consultation=consultation_id,
        )
    return state(proposal, user)


def supported_ids(consultation: Consultation, user: User | None) -> frozenset[int]:
    """The proposals of the consultation that the user supports (one query, for lists)."""
    if user is None or not user.is_authenticated:
        return frozenset()
    return frozenset(
        db.session.scalars(
            select(Support.proposal_id).where(
                Support.consultation_id == consultation.id, Support.user_id == user.id
            )
        )
    )


def state(
    proposal: Proposal, user: User | None, supported: frozenset[int] | None = None
) -> SupportState:
    """The proposal's count and, for a citizen, their own support and what is left of the cap.

    `supported` is the result of supported_ids() for the proposal's consultation, if known.
    """
    consultation = proposal.consultation
    if supported is None:
        supported = supported_ids(consultation, user)
    return SupportState(
        proposal_id=proposal.id,
        supported=proposal.id in supported,
        count=proposal.support_count,
        cap=consultation.max_supports,
        used=len(supported),
    )
