"""Public profiles: who a participant is and what they contributed in public.

A profile shows what anybody may read anyway: published proposals of public consultations,
and published comments on them. Withdrawn, hidden and deleted content, and everything in
draft consultations, stays off the profile, for every reader, moderators included.
A deleted account has no profile.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select
from sqlalchemy.orm import contains_eager

from participation.extensions import db
from participation.models import (
    Comment,
    Consultation,
    Proposal,
    User,
)
from participation.services.errors import NotFound

PER_PAGE = 10


def get_profile_owner(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.is_deleted:
        raise NotFound(_l("This participant does not exist."))
    return user


def _public_proposals(user: User) -> Select:
    return (
        db.select(Proposal)
        .join(Proposal.consultation)
        .where(
            Proposal.author_id == user.id,
            Proposal.is_published,
            Consultation.is_public,
        )
    )


def _public_comments(user: User) -> Select:
    return (
        db.select(Comment)
        .join(Comment.proposal)
        .join(Proposal.consultation)
        .where(
            Comment.author_id == user.id,
            Comment.is_published,
            Proposal.is_published,
            Consultation.is_public,
        )
    )


def _count(statement: Select) -> int:
    return db.session.scalar(statement.with_only_columns(db.func.count()).order_by(None))


@dataclass
class ProfileCounts:
    proposals: int
    comments: int


def counts(user: User) -> ProfileCounts:
    return ProfileCounts(
        proposals=_count(_public_proposals(user)), comments=_count(_public_comments(user))
    )


def proposals(user: User, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The person's public proposals, newest first, each with its consultation."""
    statement = (
        _public_proposals(user)
        .options(contains_eager(Proposal.consultation))
        .order_by(Proposal.created_at.desc(), Proposal.id.desc())
    )
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def comments(user: User, page: int = 1, per_page: int = PER_PAGE) -> Pagination:
    """The person's public comments, newest first, each with its proposal."""
    statement = (
        _public_comments(user)
        .options(contains_eager(Comment.proposal).contains_eager(Proposal.consultation))
        .order_by(Comment.created_at.desc(), Comment.id.desc())
    )
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)
