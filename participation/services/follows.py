"""Following proposals and consultations, to be notified of what happens to them.

Anybody logged in may follow what they can see; authors follow their own proposals from the
moment they submit them (and may stop). The database holds at most one follow per person and
subject (a unique constraint), so following twice, even at the same moment, is one follow.
"""

from __future__ import annotations

import logging

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite

from participation.extensions import db
from participation.logs import operation
from participation.models import Consultation, Follow, Proposal, User
from participation.models.base import utcnow
from participation.services.errors import NotAllowed

log = logging.getLogger(__name__)

Subject = Proposal | Consultation


def _kind(subject: Subject) -> str:
    return "proposal" if isinstance(subject, Proposal) else "consultation"


def _column(subject: Subject):
    return Follow.proposal_id if isinstance(subject, Proposal) else Follow.consultation_id


def _require_follower(user: User | None) -> User:
    if user is None or not user.is_authenticated or not user.is_active:
        raise NotAllowed(_l("Please log in to follow proposals and consultations."))
    return user


def _insert(user_id: int, subject: Subject) -> None:
    """Add the follow unless it exists (INSERT … ON CONFLICT DO NOTHING), in the caller's
    transaction."""
    column = _column(subject)
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(Follow)
        .values({"user_id": user_id, column.key: subject.id, "created_at": utcnow()})
        .on_conflict_do_nothing(index_elements=[column.key, "user_id"])
    )


def is_following(user: User | None, subject: Subject) -> bool:
    if user is None or not user.is_authenticated:
        return False
    return (
        db.session.scalar(
            select(Follow.id).where(_column(subject) == subject.id, Follow.user_id == user.id)
        )
        is not None
    )


def follow(user: User | None, subject: Subject) -> bool:
    """Follow a proposal or consultation the person can see (the caller looked it up as them);
    returns True: they follow it now, whether they did before or not."""
    user = _require_follower(user)
    _insert(user.id, subject)
    db.session.commit()
    operation(log, f"{_kind(subject)}.followed", actor=user, subject=subject)
    return True


def unfollow(user: User | None, subject: Subject) -> bool:
    """Stop following; returns False: they follow it no longer (also if they never did)."""
    user = _require_follower(user)
    db.session.execute(
        delete(Follow)
        .where(_column(subject) == subject.id, Follow.user_id == user.id)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    operation(log, f"{_kind(subject)}.unfollowed", actor=user, subject=subject)
    return False


def follow_own(proposal: Proposal) -> None:
    """The author follows the proposal they submit, in the transaction that submits it."""
    if proposal.author_id is not None:
        _insert(proposal.author_id, proposal)


def follower_count(subject: Subject) -> int:
    return db.session.scalar(
        select(db.func.count()).select_from(Follow).where(_column(subject) == subject.id)
    )
