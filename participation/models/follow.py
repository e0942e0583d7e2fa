"""Following: a person follows a proposal or a consultation to be notified of what happens to it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from participation.extensions import db
from participation.models.base import utcnow


class Follow(db.Model):
    """One row per person and followed proposal or consultation; the database refuses a second.

    The unique constraints lead with the subject, so they are also the index by which a
    notification finds every follower of a proposal or consultation in one statement.
    """

    __tablename__ = "follows"
    __table_args__ = (
        CheckConstraint(
            "(proposal_id IS NULL) <> (consultation_id IS NULL)", name="exactly_one_subject"
        ),
        UniqueConstraint("proposal_id", "user_id"),
        UniqueConstraint("consultation_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        subject = (
            f"proposal={self.proposal_id}"
            if self.proposal_id
            else f"consultation={self.consultation_id}"
        )
        return f"<Follow user={self.user_id} {subject}>"
