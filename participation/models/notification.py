"""Notifications: what happened to a followed proposal or consultation, one row per recipient,
and each person's choice of e-mail about them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import enum_column, utcnow

if TYPE_CHECKING:
    from participation.models.comment import Comment
    from participation.models.consultation import Consultation
    from participation.models.initiative import Initiative, InitiativeUpdate
    from participation.models.proposal import Proposal


class NotificationKind(enum.Enum):
    COMMENT = "comment"  # somebody commented on a followed proposal
    REPLY = "reply"  # somebody replied to the recipient's comment
    ANSWER = "answer"  # the moderators answered a followed proposal
    HIDDEN = "hidden"  # moderation hid a followed proposal
    PROMOTED = "promoted"  # a followed proposal became an initiative
    INITIATIVE_UPDATE = "initiative_update"  # its initiative posted a progress update
    PHASE = "phase"  # a followed consultation moved to its next phase


class EmailFrequency(enum.Enum):
    NONE = "none"
    IMMEDIATE = "immediate"
    DAILY = "daily"


class Notification(db.Model):
    """Points at the subject rather than copying its text, so that the page shows what is true
    now (a proposal hidden since is no longer named to those who may not see it)."""

    __tablename__ = "notifications"
    __table_args__ = (
        # The page (newest first) and the unread count in the header.
        Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
        Index("ix_notifications_recipient_read", "recipient_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[NotificationKind] = mapped_column(
        enum_column(NotificationKind, "notification_kind"), nullable=False
    )
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), index=True
    )
    initiative_update_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiative_updates.id", ondelete="CASCADE"), index=True
    )
    # What the event set, where the kind needs it: the answer, or the new phase.
    detail: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When a mail about it was queued, right away or in a daily digest; never mailed twice.
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    consultation: Mapped[Consultation] = relationship()
    proposal: Mapped[Proposal | None] = relationship()
    comment: Mapped[Comment | None] = relationship()
    initiative: Mapped[Initiative | None] = relationship()
    initiative_update: Mapped[InitiativeUpdate | None] = relationship()

    @property
    def is_read(self) -> bool:
        return self.read_at is not None

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind.value} to={self.recipient_id}>"


class NotificationSettings(db.Model):
    """A person's choice of e-mail about their notifications; no row means the default."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    email_frequency: Mapped[EmailFrequency] = mapped_column(
        enum_column(EmailFrequency, "email_frequency"), nullable=False, index=True
    )
    # When the choice was made: a daily digest never reaches back before it.
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    # Moderators: a mail right away whenever somebody reports content (off unless chosen).
    mail_on_report: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )

    def __repr__(self) -> str:
        return f"<NotificationSettings user={self.user_id} {self.email_frequency.value}>"
