"""Proposals: submitting, editing, withdrawing and listing them.

Proposals change only while their consultation is collecting; afterwards they are frozen so
that every vote is cast on the text that everybody saw.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Answer,
    Category,
    Consultation,
    Proposal,
    ProposalState,
    TallyEntry,
    User,
)
from participation.services import accounts, follows
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_TITLE_LENGTH = 160
MAX_BODY_LENGTH = 20_000
MAX_COST = 2_000_000_000
RANDOM_SEED_MODULUS = 2_147_483_647  # seeds are drawn below this bound


class ProposalSort(enum.Enum):
    NEWEST = "newest"
    MOST_SUPPORTED = "supported"  # support consultations
    MOST_APPROVED = "approved"  # budget consultations, once the results are published
    LOWEST_COST = "cost"  # budget consultations
    RANDOM = "random"


SORT_LABELS = {
    ProposalSort.NEWEST: _l("Newest first"),
    ProposalSort.MOST_SUPPORTED: _l("Most supported"),
    ProposalSort.MOST_APPROVED: _l("Most approvals"),
    ProposalSort.LOWEST_COST: _l("Lowest cost first"),
    ProposalSort.RANDOM: _l("Random"),
}


def sorts_for(consultation: Consultation) -> list[ProposalSort]:
    """The orders that fit the voting method: a budget consultation votes by ballot, so its
    proposals have no supports to sort by, and approvals only once the results are public."""
    if not consultation.uses_ballots:
        return [ProposalSort.NEWEST, ProposalSort.MOST_SUPPORTED, ProposalSort.RANDOM]
    sorts = [ProposalSort.NEWEST, ProposalSort.LOWEST_COST, ProposalSort.RANDOM]
    if consultation.has_published_results:
        sorts.insert(1, ProposalSort.MOST_APPROVED)
    return sorts


def sort_for(consultation: Consultation, value: str | None) -> ProposalSort:
    """The order asked for, if it fits the consultation; otherwise the newest first."""
    try:
        sort = ProposalSort(value or ProposalSort.NEWEST.value)
    except ValueError:
        return ProposalSort.NEWEST
    return sort if sort in sorts_for(consultation) else ProposalSort.NEWEST


@dataclass
class ProposalText:
    """What a citizen fills in for a proposal."""

    title: str
    body: str
    category_id: int | None = None
    estimated_cost: int | None = None


def _check(consultation: Consultation, text: ProposalText) -> Category | None:
    errors: dict = {}
    title = text.title.strip()
    if not title:
        errors["title"] = _l("Please enter a title.")
    elif len(title) > MAX_TITLE_LENGTH:
        errors["title"] = _l("The title may have at most %(count)d characters.", count=160)
    if not text.body.strip():
        errors["body"] = _l("Please describe your proposal.")
    elif len(text.body) > MAX_BODY_LENGTH:
        errors["body"] = _l(
            "The description may have at most %(count)d characters.", count=MAX_BODY_LENGTH
        )
    category = None
    if text.category_id is not None:
        category = db.session.get(Category, text.category_id)
        if category is None or category.consultation_id != consultation.id:
            errors["category_id"] = _l("Please choose one of the categories of this consultation.")
    elif consultation.categories:
        errors["category_id"] = _l("Please choose a category.")
    if text.estimated_cost is None:
        if consultation.needs_cost:
            errors["estimated_cost"] = _l(
                "Please estimate the cost: this consultation distributes a budget."
            )
    elif text.estimated_cost < 0 or text.estimated_cost > MAX_COST:
        errors["estimated_cost"] = _l("Please enter a cost between 0 and 2,000,000,000.")
    elif consultation.budget is not None and text.estimated_cost > consultation.budget:
        errors["estimated_cost"] = _l("The estimated cost is higher than the whole budget.")
    if errors:
        raise ValidationFailed(errors)
    return category


def _require_collecting(consultation: Consultation) -> None:
    if not consultation.accepts_proposals:
        raise DomainError(
            _l(
                "Proposals can only be submitted or changed while the consultation "
                "is collecting proposals."
            )
        )


def _require_citizen(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_l("Please log in first."))
    return actor


def is_author(proposal: Proposal, actor: User | None) -> bool:
    return bool(actor is not None and actor.is_authenticated and proposal.author_id == actor.id)


def _require_author(proposal: Proposal, actor: User | None, not_author: str) -> None:
    """Somebody else's proposal is never theirs to change, whatever its state."""
    _require_citizen(actor)
    if not is_author(proposal, actor):
        raise NotAllowed(not_author)


def _require_changeable_by(proposal: Proposal, actor: User | None, not_author: str) -> None:
    """Only the author changes a proposal, only while collecting, only while published."""
    _require_author(proposal, actor, not_author)
    _require_collecting(proposal.consultation)
    if not proposal.is_published:
        raise DomainError(_l("A withdrawn or hidden proposal can no longer be changed."))


def submit(consultation: Consultation, author: User, text: ProposalText) -> Proposal:
    author = accounts.require_confirmed(_require_citizen(author))
    _require_collecting(consultation)
    category = _check(consultation, text)
    proposal = Proposal(
        consultation=consultation,
        author=author,
        title=text.title.strip(),
        body=text.body.strip(),
        category=category,
        estimated_cost=text.estimated_cost,
    )
    db.session.add(proposal)
    db.session.flush()
    follows.follow_own(proposal)
    db.session.commit()
    operation(log, "proposal.submitted", actor=author, subject=proposal, consultation=consultation)
    return proposal


def can_edit(proposal: Proposal, actor: User | None) -> bool:
    return (
        is_author(proposal, actor)
        and proposal.is_published
        and proposal.consultation.accepts_proposals
    )


def edit(proposal: Proposal, actor: User, text: ProposalText) -> Proposal:
    _require_changeable_by(proposal, actor, _l("Only the author can change a proposal."))
    category = _check(proposal.consultation, text)
    proposal.title = text.title.strip()
    proposal.body = text.body.strip()
    proposal.category = category
    proposal.estimated_cost = text.estimated_cost
    db.session.commit()
    operation(log, "proposal.edited", actor=actor, subject=proposal)
    return proposal


def withdraw(proposal: Proposal, actor: User) -> Proposal:
    _require_changeable_by(proposal, actor, _l("Only the author can withdraw a proposal."))
    proposal.state = ProposalState.WITHDRAWN
    db.session.commit()
    operation(log, "proposal.withdrawn", actor=actor, subject=proposal)
    return proposal


def can_see(proposal: Proposal, viewer: User | None) -> bool:
    """Published proposals are public; authors and moderators still see withdrawn or hidden ones."""
    from participation.services.consultations import can_see as can_see_consultation

    if not can_see_consultation(proposal.consultation, viewer):
        return False
    if proposal.is_published:
        return True
    if viewer is None or not viewer.is_authenticated:
        return False
    return viewer.is_moderator or proposal.author_id == viewer.id


def get_visible(
    proposal_id: int,
    viewer: User | None,
    *,
    consultation: Consultation | None = None,
    for_change: bool = False,
) -> Proposal:
    """The proposal if this viewer may see it (and it belongs to `consultation`, if given),
    otherwise NotFound; `for_change`: only its author's, otherwise NotAllowed. Whether it can
    still be changed (collecting, published) is can_edit's and the writers' to say."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or not can_see(proposal, viewer):
        raise NotFound(_l("This proposal does not exist."))
    if consultation is not None and proposal.consultation_id != consultation.id:
        raise NotFound(_l("This proposal does not exist."))
    if for_change:
        _require_author(proposal, viewer, _l("Only the author can change a proposal."))
    return proposal


@dataclass
class ProposalQuery:
    sort: ProposalSort = ProposalSort.NEWEST
    category_id: int | None = None
    text: str = ""
    answer: Answer | None = None  # the moderators' answer; None: any
    page: int = 1
    per_page: int = 12
    seed: int = 1


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(consultation: Consultation, query: ProposalQuery) -> Pagination:
    """Published proposals of a consultation, filtered, sorted and paginated.

    The random order sorts the ids by a keyed hash of (seed, id): it stays the same across
    pages and reloads for one visitor, differs between visitors, and every proposal is equally
    likely to be on top. (An arithmetic key such as (id * seed) mod p only rotates the ids: it
    gives a few hundred orders for 30 proposals, one of them the order of submission, and puts
    some proposals on top eight times as often as others.)
    """
    statement = (
        db.select(Proposal)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.is_published,
        )
        .options(selectinload(Proposal.author), selectinload(Proposal.category))
    )
    if query.category_id is not None:
        statement = statement.where(Proposal.category_id == query.category_id)
    if query.answer is not None:
        statement = statement.where(Proposal.answer == query.answer)
    words = query.text.split()[:8]
    for word in words:
        pattern = f"%{_escape_like(word)}%"
        statement = statement.where(
            or_(
                Proposal.title.ilike(pattern, escape="\\"),
                Proposal.body.ilike(pattern, escape="\\"),
            )
        )
    if query.sort is ProposalSort.MOST_SUPPORTED:
        statement = statement.order_by(
            Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc()
        )
    elif query.sort is ProposalSort.MOST_APPROVED:
        # A consultation has one tally, so a proposal has at most one entry; projects without
        # one (no cost, so not on the ballot) come last.
        statement = statement.outerjoin(TallyEntry, TallyEntry.proposal_id == Proposal.id).order_by(
            func.coalesce(TallyEntry.approvals, -1).desc(),
            Proposal.created_at.asc(),
            Proposal.id.asc(),
        )
    elif query.sort is ProposalSort.LOWEST_COST:
        statement = statement.order_by(
            Proposal.estimated_cost.is_(None),
            Proposal.estimated_cost.asc(),
            Proposal.created_at.asc(),
            Proposal.id.asc(),
        )
    elif query.sort is ProposalSort.RANDOM:
        return _ShuffledPagination(
            page=max(query.page, 1),
            per_page=query.per_page,
            error_out=False,
            statement=statement,
            seed=query.seed,
        )
    else:
        statement = statement.order_by(Proposal.created_at.desc(), Proposal.id.desc())
    return db.paginate(
        statement, page=max(query.page, 1), per_page=query.per_page, error_out=False, count=True
    )


def _shuffle_key(seed: int, proposal_id: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{proposal_id}".encode(), digest_size=8).digest()


class _ShuffledPagination(Pagination):
    """A page of proposals in one visitor's random order; only the ids are sorted in Python."""

    def _ordered_ids(self) -> list[int]:
        if not hasattr(self, "_ids"):
            statement: Select = self._query_args["statement"]
            seed: int = self._query_args["seed"]
            ids = db.session.scalars(statement.with_only_columns(Proposal.id)).all()
            self._ids = sorted(ids, key=lambda proposal_id: _shuffle_key(seed, proposal_id))
        return self._ids

    def _query_items(self) -> list[Proposal]:
        start = (self.page - 1) * self.per_page
        page_ids = self._ordered_ids()[start : start + self.per_page]
        if not page_ids:
            return []
        statement: Select = self._query_args["statement"]
        loaded = db.session.scalars(statement.where(Proposal.id.in_(page_ids))).all()
        by_id = {proposal.id: proposal for proposal in loaded}
        return [by_id[proposal_id] for proposal_id in page_ids]

    def _query_count(self) -> int:
        return len(self._ordered_ids())


def authored_by(user: User) -> list[Proposal]:
    return list(
        db.session.scalars(
            db.select(Proposal)
            .where(Proposal.author_id == user.id)
            .order_by(Proposal.created_at.desc())
        )
    )


def new_random_seed() -> int:
    """A seed for one visitor's random order."""
    return secrets.randbelow(RANDOM_SEED_MODULUS - 2) + 1
