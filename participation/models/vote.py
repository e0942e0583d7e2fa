"""Votes: supports of proposals (and, later, budget ballots)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.proposal import Proposal


class Support(db.Model):
    """One citizen supports one proposal: the database refuses a second row."""

    __tablename__ = "supports"
    __table_args__ = (
        UniqueConstraint("proposal_id", "user_id"),
        Index("ix_supports_consultation_user", "consultation_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False
    )
    # Kept on the row so the per-consultation cap is one indexed count.
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    proposal: Mapped[Proposal] = relationship()
    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Support proposal={self.proposal_id} user={self.user_id}>"
