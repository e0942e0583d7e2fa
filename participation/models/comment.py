"""Comments on proposals, with one level of replies."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Index, String, Text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.proposal import Proposal


class CommentState(enum.Enum):
    PUBLISHED = "published"
    DELETED = "deleted"  # by its author; the text is erased, replies stay readable
    HIDDEN = "hidden"  # by moderation, with a public reason


class Comment(TimestampMixin, db.Model):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_proposal_created", "proposal_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), nullable=False
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    # Replies point at a top-level comment; a reply to a reply is attached to its parent.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    state: Mapped[CommentState] = mapped_column(
        enum_column(CommentState, "comment_state"), default=CommentState.PUBLISHED, nullable=False
    )
    hidden_reason: Mapped[str | None] = mapped_column(String(500))
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    proposal: Mapped[Proposal] = relationship()
    author: Mapped[User | None] = relationship()
    parent: Mapped[Comment | None] = relationship(remote_side=[id], back_populates="replies")
    replies: Mapped[list[Comment]] = relationship(
        back_populates="parent", order_by="Comment.created_at", passive_deletes=True
    )

    @hybrid_property
    def is_published(self) -> bool:
        """Shown and counted; in SQL, a filter."""
        return self.state is CommentState.PUBLISHED

    @is_published.inplace.expression
    @classmethod
    def _is_published_expression(cls):
        return cls.state == CommentState.PUBLISHED

    @property
    def is_deleted(self) -> bool:
        return self.state is CommentState.DELETED

    @property
    def is_hidden(self) -> bool:
        return self.state is CommentState.HIDDEN

    def __repr__(self) -> str:
        return f"<Comment {self.id} {self.state.value}>"
