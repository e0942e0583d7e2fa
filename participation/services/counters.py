"""Stored counters checked against the rows they count, for `flask doctor`.

Proposal.support_count counts the proposal's supports, Proposal.comment_count its published
comments. The services keep them right in the transaction that writes the rows; this module
finds (and repairs) any difference that slipped in anyway, for example from a manual UPDATE.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from participation.extensions import db
from participation.logs import operation
from participation.models import Comment, Proposal, Support

log = logging.getLogger(__name__)

COUNTERS = ("support_count", "comment_count")


@dataclass(frozen=True)
class CounterDifference:
    proposal_id: int
    counter: str  # one of COUNTERS
    stored: int
    actual: int


def _true_support_count() -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(Support)
        .where(Support.proposal_id == Proposal.id)
        .scalar_subquery()
    )


def _true_comment_count() -> ColumnElement[int]:
    return (
        select(func.count())
        .select_from(Comment)
        .where(Comment.proposal_id == Proposal.id, Comment.is_published)
        .scalar_subquery()
    )


def _comparison() -> Select:
    """One query: every proposal whose stored counters differ from grouped counts of the rows."""
    supports = (
        select(Support.proposal_id, func.count().label("actual"))
        .group_by(Support.proposal_id)
        .subquery()
    )
    comments = (
        select(Comment.proposal_id, func.count().label("actual"))
        .where(Comment.is_published)
        .group_by(Comment.proposal_id)
        .subquery()
    )
    actual_supports = func.coalesce(supports.c.actual, 0)
    actual_comments = func.coalesce(comments.c.actual, 0)
    return (
        select(
            Proposal.id,
            Proposal.support_count,
            actual_supports,
            Proposal.comment_count,
            actual_comments,
        )
        .outerjoin(supports, supports.c.proposal_id == Proposal.id)
        .outerjoin(comments, comments.c.proposal_id == Proposal.id)
        .where(
            or_(
                Proposal.support_count != actual_supports,
                Proposal.comment_count != actual_comments,
            )
        )
        .order_by(Proposal.id)
    )


def _differences(only_ids: list[int] | None = None) -> list[CounterDifference]:
    statement = _comparison()
    if only_ids is not None:
        statement = statement.where(Proposal.id.in_(only_ids))
    differences = []
    for proposal_id, supports, true_supports, comments, true_comments in db.session.execute(
        statement
    ):
        if supports != true_supports:
            differences.append(
                CounterDifference(proposal_id, "support_count", supports, true_supports)
            )
        if comments != true_comments:
            differences.append(
                CounterDifference(proposal_id, "comment_count", comments, true_comments)
            )
    return differences


def check_counters(repair: bool = False) -> list[CounterDifference]:
    """Every counter that differs from its rows; with `repair`, set them right in one transaction.

    The same number of queries however many proposals there are. Before repairing, the
    proposals concerned are locked and compared again, so a support or comment that was being
    written meanwhile (it updates the counter under the same row lock) is not "repaired" twice.
    """
    differences = _differences()
    if not repair or not differences:
        db.session.rollback()
        return differences
    ids = sorted({difference.proposal_id for difference in differences})
    db.session.execute(
        select(Proposal.id).where(Proposal.id.in_(ids)).order_by(Proposal.id).with_for_update()
    )
    differences = _differences(ids)
    if differences:
        db.session.execute(
            update(Proposal)
            .where(Proposal.id.in_(sorted({difference.proposal_id for difference in differences})))
            .values(support_count=_true_support_count(), comment_count=_true_comment_count())
            .execution_options(synchronize_session=False)
        )
    db.session.commit()
    operation(log, "counters.repaired", actor=None, subject=None, count=len(differences))
    return differences
