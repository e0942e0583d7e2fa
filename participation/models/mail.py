"""The e-mail outbox: every mail the platform sends is first a row here.

A mail is written in the same transaction as the event that causes it (a registration, a
request for a reset link), so a crash cannot lose one; `flask mail send` delivers the rows
and marks each as sent right after it went out, so a delivered mail is not sent again.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from participation.extensions import db
from participation.models.base import utcnow


class OutboxMail(db.Model):
    __tablename__ = "outbox_mails"
    __table_args__ = (
        # The sender's question: which mails are not sent yet and due now?
        Index("ix_outbox_mails_due", "sent_at", "next_attempt_at"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Names the event the mail belongs to: queueing the same event twice gives one mail.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    purpose: Mapped[str] = mapped_column(String(40), nullable=False)
    # The account the mail is about, if any: its mails go when the account goes.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(254), nullable=False)
    subject: Mapped[str] = mapped_column(String(255), nullable=False)
    text_body: Mapped[str] = mapped_column(Text, nullable=False)
    html_body: Mapped[str | None] = mapped_column(Text)
    # A one-click unsubscribe link (RFC 8058) for mails people may choose not to get.
    unsubscribe_url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def is_sent(self) -> bool:
        return self.sent_at is not None

    def __repr__(self) -> str:
        state = "sent" if self.is_sent else f"pending after {self.attempts} attempts"
        return f"<OutboxMail {self.id} {self.purpose} {state}>"
