"""Proposals submitted by citizens to a consultation."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column
from participation.models.tally import Override

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Category, Consultation


class ProposalState(enum.Enum):
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"
    HIDDEN = "hidden"


class Answer(enum.Enum):
    """The moderators' public answer to a proposal."""

    NONE = "none"
    UNDER_EVALUATION = "under_evaluation"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class Proposal(TimestampMixin, db.Model):
    __tablename__ = "proposals"
    __table_args__ = (
        CheckConstraint(
            "estimated_cost IS NULL OR estimated_cost >= 0", name="estimated_cost_not_negative"
        ),
        CheckConstraint("support_count >= 0", name="support_count_not_negative"),
        CheckConstraint("comment_count >= 0", name="comment_count_not_negative"),
        CheckConstraint(
            "selection_override IS NULL OR selection_override_reason IS NOT NULL",
            name="selection_override_has_reason",
        ),
        Index("ix_proposals_consultation_state_created", "consultation_id", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(160), nullable=False)
    # Markdown source; rendered and sanitised on display by services.markup.
    body: Mapped[str] = mapped_column(Text, nullable=False)
    estimated_cost: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[ProposalState] = mapped_column(
        enum_column(ProposalState, "proposal_state"),
        default=ProposalState.PUBLISHED,
        nullable=False,
    )
    # Counters written only by the services, in the transaction that writes the rows they count:
    # supports of the proposal, and its published (not deleted, not hidden) comments.
    support_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    # Public reason shown in place of a proposal hidden by moderation.
    hidden_reason: Mapped[str | None] = mapped_column(String(500))

    answer: Mapped[Answer] = mapped_column(
        enum_column(Answer, "proposal_answer"),
        default=Answer.NONE,
        server_default=Answer.NONE.value,
        nullable=False,
    )
    answer_text: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Marked as a winner by the moderators while evaluating a support consultation.
    selected: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    # A support consultation's winner chosen by hand against the rule the moderators applied
    # (FUND: added, DROP: taken out), always with a public reason shown on the results page.
    selection_override: Mapped[Override | None] = mapped_column(
        enum_column(Override, "selection_override")
    )
    selection_override_reason: Mapped[str | None] = mapped_column(String(500))

    consultation: Mapped[Consultation] = relationship(back_populates="proposals")
    author: Mapped[User | None] = relationship()
    category: Mapped[Category | None] = relationship()

    @hybrid_property
    def is_published(self) -> bool:
        """Public, supported, commented and counted; in SQL, a filter."""
        return self.state is ProposalState.PUBLISHED

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls):
        return cls.state == ProposalState.PUBLISHED

    @property
    def is_withdrawn(self) -> bool:
        return self.state is ProposalState.WITHDRAWN

    @hybrid_property
    def is_hidden(self) -> bool:
        """Hidden by moderation: gone from public pages and exports; in SQL, a filter."""
        return self.state is ProposalState.HIDDEN

    @is_hidden.inplace.expression
    @classmethod
    def _is_hidden_expression(cls):
        return cls.state == ProposalState.HIDDEN

    @property
    def has_answer(self) -> bool:
        """The moderators have answered it publicly (accepted, rejected, under evaluation)."""
        return self.answer is not Answer.NONE

    @hybrid_property
    def is_on_ballot(self) -> bool:
        """A project of a budget consultation: published and with a cost. Only these are on the
        ballot, counted, and listed in the anonymised ballots; in SQL, a filter."""
        return self.is_published and self.estimated_cost is not None

    @is_on_ballot.inplace.expression
    @classmethod
    def _is_on_ballot_expression(cls):
        return and_(cls.is_published, cls.estimated_cost.is_not(None))

    def __repr__(self) -> str:
        return f"<Proposal {self.id} {self.state.value}>"
