"""The counted result of a budget consultation, with the moderators' overrides."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import enum_column, utcnow
from participation.models.consultation import TallyRule

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Consultation
    from participation.models.proposal import Proposal


class Override(enum.Enum):
    FUND = "fund"  # funded although the rule left it out
    DROP = "drop"  # not funded although the rule chose it


class Tally(db.Model):
    """The last count of a budget consultation's ballots (recounting replaces it)."""

    __tablename__ = "tallies"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    rule: Mapped[TallyRule] = mapped_column(enum_column(TallyRule, "tally_rule"), nullable=False)
    # The rule shown next to it, so that citizens see why the rule matters.
    comparison_rule: Mapped[TallyRule] = mapped_column(
        enum_column(TallyRule, "tally_comparison_rule"), nullable=False
    )
    min_approvals: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[int] = mapped_column(BigInteger, nullable=False)
    ballot_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # Of the ballots counted, those entered from paper (services.budgeting.paper).
    paper_ballot_count: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default="0"
    )
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    computed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    consultation: Mapped[Consultation] = relationship()
    computed_by: Mapped[User | None] = relationship()
    entries: Mapped[list[TallyEntry]] = relationship(
        back_populates="tally",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="TallyEntry.id",
    )

    def __repr__(self) -> str:
        return f"<Tally consultation={self.consultation_id} {self.rule.value}>"


class TallyEntry(db.Model):
    """One project in a tally: its approvals, the rule's outcome and an optional override."""

    __tablename__ = "tally_entries"
    __table_args__ = (
        UniqueConstraint("tally_id", "proposal_id"),
        CheckConstraint("approvals >= 0", name="approvals_not_negative"),
        CheckConstraint(
            "override IS NULL OR override_reason IS NOT NULL", name="override_has_reason"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tally_id: Mapped[int] = mapped_column(
        ForeignKey("tallies.id", ondelete="CASCADE"), nullable=False
    )
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False
    )
    cost: Mapped[int] = mapped_column(BigInteger, nullable=False)
    approvals: Mapped[int] = mapped_column(Integer, nullable=False)
    # The rule's own outcome, with the order in which it chose the project (1 = first).
    funded_by_rule: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int | None] = mapped_column(Integer)
    # Equal shares: the most one supporter paid for it, in cents (rounded up).
    share_cents: Mapped[int | None] = mapped_column(BigInteger)
    funded_by_comparison: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    override: Mapped[Override | None] = mapped_column(enum_column(Override, "tally_override"))
    override_reason: Mapped[str | None] = mapped_column(String(500))

    tally: Mapped[Tally] = relationship(back_populates="entries")
    proposal: Mapped[Proposal] = relationship()

    @property
    def funded(self) -> bool:
        """The final outcome: the rule's, unless a moderator overrode it."""
        if self.override is Override.FUND:
            return True
        if self.override is Override.DROP:
            return False
        return self.funded_by_rule

    def __repr__(self) -> str:
        return f"<TallyEntry proposal={self.proposal_id} funded={self.funded}>"
