"""Accounts: people and organisations, with a role."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from participation.extensions import db
from participation.models.base import TimestampMixin, enum_column


class Role(enum.Enum):
    CITIZEN = "citizen"
    MODERATOR = "moderator"
    ADMIN = "admin"


class AccountType(enum.Enum):
    PERSON = "person"
    ORGANISATION = "organisation"


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


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
    # Part of the id in the session and "stay logged in" cookies: a new token ends every
    # session of the account (services.account_settings).
    session_token: Mapped[str] = mapped_column(
        String(64), default=new_session_token, nullable=False
    )
    # Set when the account was deleted: the row stays, without personal data, as the author
    # of what the person wrote (services.personal_data).
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

    def get_id(self) -> str:
        """What the login cookies hold: the id and the session token."""
        return f"{self.id}:{self.session_token}"

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"
