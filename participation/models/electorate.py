"""Who may vote in a consultation: the voting codes mailed by letter and the voter register.

Neither table holds anything a person could use or read: a code and a register entry are stored
as keyed hashes (HMAC-SHA256 with the site's VOTER_SECRET, services.budgeting.electorate), so a
copy of the database reveals no usable code and no resident's details.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from participation.extensions import db
from participation.models.base import enum_column, utcnow

if TYPE_CHECKING:
    from participation.models.account import User
    from participation.models.consultation import Consultation


class Electorate(enum.Enum):
    """Who may vote, announced on the consultation's page before voting opens."""

    OPEN = "open"  # every confirmed account
    VOTING_CODES = "voting_codes"  # whoever holds a code from the town's letter, no account
    REGISTER = "register"  # confirmed accounts that proved they are on the voter register


class VotingCodeState(enum.Enum):
    ISSUED = "issued"
    REVOKED = "revoked"


class VotingCode(db.Model):
    """One code of a letter. It is used when a ballot names it (`Ballot.voting_code_id`,
    unique): online it changes that ballot until voting closes, on paper it is used up."""

    __tablename__ = "voting_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    # Keyed hash of the code's characters (without grouping and check character): unique over
    # all consultations, so that a code of another consultation is recognised as such.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    district: Mapped[str | None] = mapped_column(String(80))
    state: Mapped[VotingCodeState] = mapped_column(
        enum_column(VotingCodeState, "voting_code_state"),
        default=VotingCodeState.ISSUED,
        nullable=False,
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The code this one was issued in place of (a lost letter).
    # Indexed: deleting codes (a consultation's thousands) looks up the codes that replace them.
    replaces_id: Mapped[int | None] = mapped_column(
        ForeignKey("voting_codes.id", ondelete="SET NULL"), index=True
    )

    consultation: Mapped[Consultation] = relationship()

    @property
    def is_revoked(self) -> bool:
        return self.state is VotingCodeState.REVOKED

    def __repr__(self) -> str:
        return f"<VotingCode {self.id} consultation={self.consultation_id}>"


class RegisterEntry(db.Model):
    """One eligible resident of the voter register the town imported: the keyed hash of their
    identifier and date of birth, their district, and the account that claimed the entry."""

    __tablename__ = "register_entries"
    __table_args__ = (
        UniqueConstraint("consultation_id", "entry_hash"),
        UniqueConstraint("consultation_id", "claimed_by_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), nullable=False
    )
    entry_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    district: Mapped[str | None] = mapped_column(String(80))
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    consultation: Mapped[Consultation] = relationship()
    claimed_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<RegisterEntry {self.id} consultation={self.consultation_id}>"
