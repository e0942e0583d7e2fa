"""Accounts: people and organisations, with a role; and the login sessions of an account."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column, utcnow


class Role(enum.Enum):
    CITIZEN = "citizen"
    MODERATOR = "moderator"
    ADMIN = "admin"


class AccountType(enum.Enum):
    PERSON = "person"
    ORGANISATION = "organisation"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased by the accounts service, so the unique constraint is case-insensitive.
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(80), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[Role] = mapped_column(
        enum_column(Role, "role"), default=Role.CITIZEN, nullable=False
    )
    account_type: Mapped[AccountType] = mapped_column(
        enum_column(AccountType, "account_type"), default=AccountType.PERSON, nullable=False
    )
    locale: Mapped[str | None] = mapped_column(String(8))
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False, nullable=False)
    # When the person opened the confirmation link sent to `email`; None until then.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # A new address the person asked for, until they open the link sent to it.
    pending_email: Mapped[str | None] = mapped_column(String(254))
    # Set when the account was deleted: the row stays, without personal data, as the author
    # of what the person wrote (services.accounts.personal_data).
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def is_moderator(self) -> bool:
        return self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    @property
    def is_confirmed(self) -> bool:
        """Only a confirmed address takes part: proposes, comments, reports and votes."""
        return self.email_confirmed_at is not None

    @property
    def is_organisation(self) -> bool:
        return self.account_type is AccountType.ORGANISATION

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return not self.is_blocked and not self.is_deleted

    # What the login cookies hold, "id:token", once accounts.login_sessions started a session
    # for this object or loaded it from one; not a column.
    login_id = None

    def get_id(self) -> str:
        """For Flask-Login: the cookie id of this login. Logging in without a session row would
        give a cookie that opens nothing, so that is a mistake to notice at once."""
        if self.login_id is None:
            raise RuntimeError("Start a login session first (accounts.login_sessions.start).")
        return self.login_id

    def __eq__(self, other: object) -> bool:
        """The same account, whichever login the objects came from (UserMixin would compare
        the cookie ids)."""
        if not isinstance(other, User):
            return NotImplemented
        if self.id is None or other.id is None:
            return self is other
        return self.id == other.id

    __hash__ = object.__hash__

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class LoginSession(db.Model):
    """One login on one device: logging out there deletes the row, so a copy of the cookie
    stops working. Only a hash of the cookie's token is stored, so a copy of the database
    opens no session."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False
    )
    # SHA-256 of the random token in the cookie, hex.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # A session ends LOGIN_SESSION_DAYS after the login, however often it is used.
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, index=True, nullable=False
    )
    # Noted every few minutes, not on every request.
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )

    def __repr__(self) -> str:
        return f"<LoginSession {self.id} of user {self.user_id}>"
