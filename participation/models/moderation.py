"""Moderation: reports of content by citizens, and the audit trail of what moderators did."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import enum_column, utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.comment import Comment
    from participation.models.consultation import Consultation
    from participation.models.proposal import Proposal


class ReportReason(enum.Enum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    OTHER = "other"


class ReportState(enum.Enum):
    OPEN = "open"
    DISMISSED = "dismissed"  # the content stays
    ACTIONED = "actioned"  # the content was hidden


class Report(db.Model):
    """A citizen flags a proposal or a comment, once each."""

    __tablename__ = "reports"
    __table_args__ = (
        CheckConstraint(
            "(proposal_id IS NULL) <> (comment_id IS NULL)", name="exactly_one_subject"
        ),
        UniqueConstraint("reporter_id", "proposal_id"),
        UniqueConstraint("reporter_id", "comment_id"),
        Index("ix_reports_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[ReportReason] = mapped_column(
        enum_column(ReportReason, "report_reason"), nullable=False
    )
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    state: Mapped[ReportState] = mapped_column(
        enum_column(ReportState, "report_state"), default=ReportState.OPEN, nullable=False
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    consultation: Mapped[Consultation] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    comment: Mapped[Comment | None] = relationship()

    @hybrid_property
    def is_open(self) -> bool:
        """Waiting for a moderator (not dismissed, not actioned); in SQL, a filter."""
        return self.state is ReportState.OPEN

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return cls.state == ReportState.OPEN

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.reason.value} {self.state.value}>"


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
