"""Consultations (participatory processes) and their categories."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column
from participation.models.electorate import Electorate

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.proposal import Proposal


class Phase(enum.Enum):
    DRAFT = "draft"
    COLLECTING = "collecting"
    VOTING = "voting"
    EVALUATING = "evaluating"
    CLOSED = "closed"

    @classmethod
    def ordered(cls) -> list[Phase]:
        return list(cls)

    @property
    def is_public(self) -> bool:
        """Every phase but the draft is seen by everybody."""
        return self is not Phase.DRAFT

    @property
    def next(self) -> Phase | None:
        phases = list(Phase)
        index = phases.index(self)
        return phases[index + 1] if index + 1 < len(phases) else None


class VotingMethod(enum.Enum):
    SUPPORT = "support"
    BUDGET = "budget"


class TallyRule(enum.Enum):
    """How a budget consultation's ballots are counted (budgeting.tally, one module per rule)."""

    GREEDY = "greedy"
    EQUAL_SHARES = "equal_shares"
    EQUAL_SHARES_GREEDY = "equal_shares_greedy"


class Consultation(TimestampMixin, db.Model):
    __tablename__ = "consultations"
    __table_args__ = (
        CheckConstraint("budget IS NULL OR budget > 0", name="budget_positive"),
        CheckConstraint("max_supports IS NULL OR max_supports > 0", name="max_supports_positive"),
        CheckConstraint(
            "ballot_min_projects IS NULL OR ballot_min_projects > 0",
            name="ballot_min_projects_positive",
        ),
        CheckConstraint(
            "ballot_max_projects IS NULL OR ballot_max_projects > 0",
            name="ballot_max_projects_positive",
        ),
        CheckConstraint(
            "ballot_min_projects IS NULL OR ballot_max_projects IS NULL"
            " OR ballot_min_projects <= ballot_max_projects",
            name="ballot_projects_range",
        ),
        CheckConstraint(
            "ballot_max_share IS NULL OR (ballot_max_share > 0 AND ballot_max_share <= 100)",
            name="ballot_max_share_percent",
        ),
        CheckConstraint(
            "min_approvals IS NULL OR min_approvals > 0", name="min_approvals_positive"
        ),
        CheckConstraint(
            "min_voting_age IS NULL OR min_voting_age > 0", name="min_voting_age_positive"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    title: Mapped[str] = mapped_column(String(160), nullable=False)
    summary: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    # Markdown source; rendered and sanitised on display by services.markup.
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    phase: Mapped[Phase] = mapped_column(
        enum_column(Phase, "phase"), default=Phase.DRAFT, nullable=False, index=True
    )
    voting_method: Mapped[VotingMethod] = mapped_column(
        enum_column(VotingMethod, "voting_method"), default=VotingMethod.SUPPORT, nullable=False
    )
    # Whole currency units: participatory budgets are announced in round sums.
    budget: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, default="EUR")

    collecting_starts_on: Mapped[date | None] = mapped_column(Date)
    voting_starts_on: Mapped[date | None] = mapped_column(Date)
    voting_ends_on: Mapped[date | None] = mapped_column(Date)
    results_on: Mapped[date | None] = mapped_column(Date)

    # Optional cap for `support` voting: at most this many supports per citizen.
    max_supports: Mapped[int | None] = mapped_column(Integer)
    # Budget ballots: optional bounds on the number of projects, and the share of the budget
    # (in percent) one ballot may use; NULL means no bound / the whole budget.
    ballot_min_projects: Mapped[int | None] = mapped_column(Integer)
    ballot_max_projects: Mapped[int | None] = mapped_column(Integer)
    ballot_max_share: Mapped[int | None] = mapped_column(Integer)
    # The counting rule, announced before voting; and the approvals a project needs to be
    # funded (pabulib's min_project_score_threshold), applied by every rule.
    tally_rule: Mapped[TallyRule] = mapped_column(
        enum_column(TallyRule, "tally_rule"),
        default=TallyRule.GREEDY,
        server_default=TallyRule.GREEDY.value,
        nullable=False,
    )
    min_approvals: Mapped[int | None] = mapped_column(Integer)
    # Who may vote (announced before voting), and for a voter register the age a resident must
    # have reached on the day voting opens.
    electorate: Mapped[Electorate] = mapped_column(
        enum_column(Electorate, "electorate"),
        default=Electorate.OPEN,
        server_default=Electorate.OPEN.value,
        nullable=False,
    )
    min_voting_age: Mapped[int | None] = mapped_column(Integer)

    # Set when the consultation closes with its winners; the results page is public from then.
    results_published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    created_by: Mapped[User | None] = relationship()
    categories: Mapped[list[Category]] = relationship(
        back_populates="consultation",
        order_by="Category.position",
        cascade="all, delete-orphan",
    )
    # Write-only: a consultation may hold thousands of proposals; query them with a filter.
    proposals: WriteOnlyMapped[Proposal] = relationship(
        back_populates="consultation", passive_deletes=True
    )

    # One predicate per rule of the phases: services, views and templates ask these, never the
    # phase itself, so that a rule is written once.

    @hybrid_property
    def is_public(self) -> bool:
        """Out of draft: visible to everybody; in SQL, a filter."""
        return self.phase.is_public

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls):
        return cls.phase != Phase.DRAFT

    @property
    def has_published_results(self) -> bool:
        """The results are public: everybody sees the results page, approvals and exports."""
        return self.results_published_at is not None and self.is_public

    @property
    def accepts_proposals(self) -> bool:
        """Collecting: proposals are submitted, changed and withdrawn only now."""
        return self.phase is Phase.COLLECTING

    @property
    def is_voting(self) -> bool:
        """Voting: supports and ballots are taken only now; proposals are frozen."""
        return self.phase is Phase.VOTING

    @property
    def is_before_voting(self) -> bool:
        """Draft or collecting: nobody has voted yet, so the voting rules may still change."""
        return self.phase in (Phase.DRAFT, Phase.COLLECTING)

    @property
    def voting_has_ended(self) -> bool:
        """Evaluating or closed: the votes are frozen and can be counted, looked up, promoted."""
        return self.phase in (Phase.EVALUATING, Phase.CLOSED)

    @property
    def is_evaluating(self) -> bool:
        """Evaluating: moderators count the votes and choose the winners only now."""
        return self.phase is Phase.EVALUATING

    @property
    def accepts_paper_ballots(self) -> bool:
        """A budget consultation voting or being evaluated, its results not yet published: staff
        enter the paper ballots now, and the count includes them."""
        return (
            self.uses_ballots
            and self.phase in (Phase.VOTING, Phase.EVALUATING)
            and self.results_published_at is None
        )

    @property
    def is_closed(self) -> bool:
        return self.phase is Phase.CLOSED

    @property
    def is_open(self) -> bool:
        """Open now: citizens submit proposals or vote."""
        return self.phase in (Phase.COLLECTING, Phase.VOTING)

    @property
    def accepts_comments(self) -> bool:
        """From collecting until the consultation closes."""
        return self.phase in (Phase.COLLECTING, Phase.VOTING, Phase.EVALUATING)

    @property
    def uses_supports(self) -> bool:
        return self.voting_method is VotingMethod.SUPPORT

    @property
    def uses_ballots(self) -> bool:
        return self.voting_method is VotingMethod.BUDGET

    @property
    def uses_voting_codes(self) -> bool:
        """Residents vote with the code of the town's letter, without an account."""
        return self.uses_ballots and self.electorate is Electorate.VOTING_CODES

    @property
    def has_voter_register(self) -> bool:
        """Who may vote: the accounts that proved they are on the town's voter register."""
        return self.electorate is Electorate.REGISTER

    @property
    def ballot_limit(self) -> int | None:
        """The most one ballot may spend: the budget, or the announced share of it."""
        if self.budget is None:
            return None
        if self.ballot_max_share is None:
            return self.budget
        return self.budget * self.ballot_max_share // 100

    @property
    def needs_cost(self) -> bool:
        return self.budget is not None or self.uses_ballots

    def __repr__(self) -> str:
        return f"<Consultation {self.slug} {self.phase.value}>"


class Category(db.Model):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("consultation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    consultation: Mapped[Consultation] = relationship(back_populates="categories")

    def __repr__(self) -> str:
        return f"<Category {self.name}>"
