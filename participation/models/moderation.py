"""The audit trail of what moderators and admins did."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import utcnow

if TYPE_CHECKING:
    from participation.models.consultation import Consultation
    from participation.models.user import User


class AuditEvent(db.Model):
    """One recorded action: who did what to which subject, when, from which value to which."""

    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_consultation_created", "consultation_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consultation_id: Mapped[int | None] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE")
    )
    action: Mapped[str] = mapped_column(String(50), nullable=False)
    subject_type: Mapped[str] = mapped_column(String(30), nullable=False)
    subject_id: Mapped[int | None] = mapped_column(Integer)
    from_value: Mapped[str | None] = mapped_column(String(50))
    to_value: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
    consultation: Mapped[Consultation | None] = relationship()

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.subject_type}:{self.subject_id}>"
