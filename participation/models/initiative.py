"""Funded initiatives promoted from winning proposals, and their public progress updates."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column, utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Consultation
    from participation.models.proposal import Proposal


class InitiativeStatus(enum.Enum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Initiative(TimestampMixin, db.Model):
    __tablename__ = "initiatives"
    __table_args__ = (
        CheckConstraint("progress_percent BETWEEN 0 AND 100", name="progress_percent_range"),
        CheckConstraint(
            "allocated_budget IS NULL OR allocated_budget >= 0",
            name="allocated_budget_not_negative",
        ),
        Index("ix_initiatives_consultation_status", "consultation_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # One initiative per proposal.
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="RESTRICT"), unique=True, nullable=False
    )
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="RESTRICT"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(160), nullable=False)
    allocated_budget: Mapped[int | None] = mapped_column(Integer)
    # None until a moderator names it (the pages then say "to be assigned" in the reader's
    # language: a placeholder is never stored as if it were a body).
    responsible_body: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[InitiativeStatus] = mapped_column(
        enum_column(InitiativeStatus, "initiative_status"),
        default=InitiativeStatus.PLANNED,
        nullable=False,
    )
    progress_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    proposal: Mapped[Proposal] = relationship()
    consultation: Mapped[Consultation] = relationship()
    updates: Mapped[list[InitiativeUpdate]] = relationship(
        back_populates="initiative",
        order_by="(InitiativeUpdate.happened_on.desc(), InitiativeUpdate.id.desc())",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Initiative {self.id} {self.status.value} {self.progress_percent}%>"


class InitiativeUpdate(db.Model):
    """A dated public note on the progress of an initiative."""

    __tablename__ = "initiative_updates"
    __table_args__ = (
        CheckConstraint(
            "progress_percent IS NULL OR progress_percent BETWEEN 0 AND 100",
            name="progress_percent_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    happened_on: Mapped[date] = mapped_column(Date, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    # What the update changed, kept for the timeline.
    status: Mapped[InitiativeStatus | None] = mapped_column(
        enum_column(InitiativeStatus, "initiative_update_status")
    )
    progress_percent: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    initiative: Mapped[Initiative] = relationship(back_populates="updates")
    author: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<InitiativeUpdate {self.id} {self.happened_on}>"
