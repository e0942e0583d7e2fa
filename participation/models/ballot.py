"""Budget ballots: one per voter and consultation, the set of projects the voter approves; and
the paper ballots staff enter twice before one counts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column, utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Consultation
    from participation.models.electorate import VotingCode
    from participation.models.proposal import Proposal


class BallotChannel(enum.Enum):
    ONLINE = "online"
    PAPER = "paper"  # entered by staff from a paper ballot, counted once two entries agree


class Ballot(TimestampMixin, db.Model):
    """A citizen's budget ballot. The database refuses a second ballot of the same citizen.

    `code` is random (services.budgeting.ballots), never derived from the user: it is the only thing
    that identifies a ballot in the anonymised exports, so that a citizen can find their own.
    Imported elections (`flask pb import`) and deleted accounts leave `user_id` empty; so does
    a ballot cast with a voting code, which names the code instead (once: the database refuses
    a second ballot of one code), and an anonymous paper ballot.
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
    voting_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("voting_codes.id", ondelete="SET NULL"), unique=True
    )
    channel: Mapped[BallotChannel] = mapped_column(
        enum_column(BallotChannel, "ballot_channel"),
        default=BallotChannel.ONLINE,
        server_default=BallotChannel.ONLINE.value,
        nullable=False,
    )
    # When the citizen last submitted it (the last ballot counts).
    submitted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    consultation: Mapped[Consultation] = relationship()
    user: Mapped[User | None] = relationship()
    voting_code: Mapped[VotingCode | None] = relationship()
    choices: Mapped[list[BallotChoice]] = relationship(
        back_populates="ballot", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_on_paper(self) -> bool:
        return self.channel is BallotChannel.PAPER

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


class PaperEntry(db.Model):
    """One staff member's entry of one paper ballot. A sheet is named by its voting code or, in
    an open electorate, by its batch and number (`sheet_key`); each staff member enters a sheet
    once, and the sheet counts (`ballot_id`) once two of them entered the same choices."""

    __tablename__ = "paper_entries"
    __table_args__ = (UniqueConstraint("consultation_id", "sheet_key", "entered_by_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )
    sheet_key: Mapped[str] = mapped_column(String(120), nullable=False)
    batch: Mapped[str | None] = mapped_column(String(40))
    sheet: Mapped[int | None] = mapped_column(Integer)
    voting_code_id: Mapped[int | None] = mapped_column(
        ForeignKey("voting_codes.id", ondelete="SET NULL")
    )
    # The approved projects, as their proposal ids in ascending order, joined by commas.
    choice_ids: Mapped[str] = mapped_column(Text, nullable=False, default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballots.id", ondelete="SET NULL"))

    consultation: Mapped[Consultation] = relationship()
    entered_by: Mapped[User | None] = relationship()
    voting_code: Mapped[VotingCode | None] = relationship()
    ballot: Mapped[Ballot | None] = relationship()

    def __repr__(self) -> str:
        return f"<PaperEntry {self.sheet_key} consultation={self.consultation_id}>"
