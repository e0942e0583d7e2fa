"""Budget ballots: one per citizen and consultation, the set of projects the citizen approves."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Consultation
    from participation.models.proposal import Proposal


class Ballot(TimestampMixin, db.Model):
    """A citizen's budget ballot. The database refuses a second ballot of the same citizen.

    `code` is random (services.budgeting.ballots), never derived from the user: it is the only thing
    that identifies a ballot in the anonymised exports, so that a citizen can find their own.
    Imported elections (`flask pb import`) and deleted accounts leave `user_id` empty.
    """

    __tablename__ = "ballots"
    __table_args__ = (
        UniqueConstraint("consultation_id", "user_id"),
        UniqueConstraint("consultation_id", "code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(32), nullable=False)
    # When the citizen last submitted it (the last ballot counts).
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    consultation: Mapped[Consultation] = relationship()
    user: Mapped[User | None] = relationship()
    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"<Ballot {self.code} consultation={self.consultation_id}>"


class BallotChoice(db.Model):
    """One approved project on a ballot."""

    __tablename__ = "ballot_choices"

    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True
    )
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    ballot: Mapped[Ballot] = relationship(back_populates="choices")
    proposal: Mapped[Proposal] = relationship()

    def __repr__(self) -> str:
        return f"<BallotChoice ballot={self.ballot_id} proposal={self.proposal_id}>"
