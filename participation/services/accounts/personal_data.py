"""A person's own data: the copy they may take with them, and the deletion of their account
(GDPR Art. 15, 17 and 20).

The export lists, table by table, the rows that point at the person, with the columns that
are theirs to see: never another person's name, address or text; other people and their
content appear at most as ids (the proposal a comment answers, the proposal a support went
to). A table that holds personal data is one more line in EXPORTED.

Deleting an account keeps the row as a tombstone without personal data: the address, name,
language and password are erased, every session ends, and nobody can log in with the old
credentials. What the person wrote in public stays readable, shown as by a "deleted
participant", so discussions keep their sense; their supports and ballots stay counted, so no
result changes, but point at nobody (UNLINKED); rows that are nothing but personal data go
(REMOVED). Each deletion is an audit event that names the account by its id only.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, inspect, update
from sqlalchemy.orm import InstrumentedAttribute

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    AccountType,
    AuditEvent,
    Ballot,
    Comment,
    Consultation,
    Follow,
    InitiativeUpdate,
    LoginSession,
    Notification,
    NotificationSettings,
    OutboxMail,
    PaperEntry,
    Proposal,
    RegisterEntry,
    Report,
    Role,
    Support,
    Tally,
    User,
)
from participation.models.base import utcnow
from participation.services import audit, limits
from participation.services.accounts import registration
from participation.services.errors import DomainError, NotAllowed, ValidationFailed

log = logging.getLogger(__name__)

FORMAT = "participation/personal-data"
FORMAT_VERSION = 1
MAX_REASON_LENGTH = 500
# Never an argon2 hash, so no password matches it.
ERASED_PASSWORD_HASH = "!erased"


# The export


@dataclass(frozen=True)
class Section:
    """The rows of one table that belong to a person, as the export lists them."""

    owner: InstrumentedAttribute  # the column that points at the person
    columns: tuple[str, ...]
    extra: Callable[[Any], dict[str, Any]] | None = None

    @property
    def model(self) -> type:
        return self.owner.class_


def rows(owner: InstrumentedAttribute, *columns: str, extra=None) -> Section:
    return Section(owner, columns, extra)


ACCOUNT_COLUMNS = (
    "id",
    "email",
    "pending_email",
    "display_name",
    "account_type",
    "role",
    "locale",
    "is_blocked",
    "email_confirmed_at",
    "created_at",
    "updated_at",
)

EXPORTED: dict[str, Section] = {
    "proposals": rows(
        Proposal.author_id,
        "id", "consultation_id", "category_id", "title", "body", "estimated_cost", "state",
        "hidden_reason", "answer", "answer_text", "answered_at", "support_count",
        "comment_count", "created_at", "updated_at",
    ),
    "comments": rows(
        Comment.author_id,
        "id", "proposal_id", "parent_id", "body", "state", "hidden_reason", "created_at",
        "edited_at",
    ),
    "supports": rows(Support.user_id, "id", "proposal_id", "consultation_id", "created_at"),
    "ballots": rows(
        Ballot.user_id,
        "id", "consultation_id", "code", "submitted_at",
        extra=lambda ballot: {
            "proposal_ids": sorted(choice.proposal_id for choice in ballot.choices)
        },
    ),
    "reports": rows(
        Report.reporter_id,
        "id", "consultation_id", "proposal_id", "comment_id", "reason", "text", "state",
        "created_at", "resolved_at",
    ),
    "mails": rows(
        OutboxMail.user_id,
        "id", "purpose", "recipient", "subject", "text_body", "created_at", "sent_at",
    ),
    "actions": rows(
        AuditEvent.actor_id,
        "id", "action", "subject_type", "subject_id", "consultation_id", "created_at",
    ),
    "initiative_updates": rows(
        InitiativeUpdate.author_id,
        "id", "initiative_id", "happened_on", "body", "status", "progress_percent",
        "created_at",
    ),
    "follows": rows(Follow.user_id, "id", "proposal_id", "consultation_id", "created_at"),
    # The voter-register entry the account claimed: never its hash (of identifier and birth).
    "register_entries": rows(
        RegisterEntry.claimed_by_id, "id", "consultation_id", "district", "claimed_at"
    ),
    "notifications": rows(
        Notification.recipient_id,
        "id", "kind", "consultation_id", "proposal_id", "comment_id", "initiative_id",
        "initiative_update_id", "detail", "created_at", "read_at", "mailed_at",
    ),
    "notification_settings": rows(NotificationSettings.user_id, "email_frequency", "changed_at"),
    # When each open login began and was last used; never the hash of its token.
    "login_sessions": rows(LoginSession.user_id, "id", "created_at", "last_seen_at"),
    # What moderators did: other people appear by the id of their content only.
    "consultations_created": rows(Consultation.created_by_id, "id", "slug", "title", "created_at"),
    "reports_resolved": rows(Report.resolved_by_id, "id", "state", "resolved_at"),
    "results_computed": rows(Tally.computed_by_id, "id", "consultation_id", "computed_at"),
    # The paper sheets a staff member entered: which and when, never the choices (a voter's).
    "paper_entries": rows(
        PaperEntry.entered_by_id, "id", "consultation_id", "batch", "sheet", "created_at",
    ),
}  # fmt: skip


def _value(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _record(instance: Any, columns: tuple[str, ...]) -> dict[str, Any]:
    return {column: _value(getattr(instance, column)) for column in columns}


def _section_rows(section: Section, user: User) -> list[dict[str, Any]]:
    primary_key = inspect(section.model).primary_key  # not always a column named id
    found = db.session.scalars(
        db.select(section.model).where(section.owner == user.id).order_by(*primary_key)
    )
    result = []
    for instance in found:
        record = _record(instance, section.columns)
        if section.extra is not None:
            record.update({key: _value(value) for key, value in section.extra(instance).items()})
        result.append(record)
    return result


def export(user: User) -> dict[str, Any]:
    """Everything stored about the person, as plain JSON-ready data."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "exported_at": _value(utcnow()),
        "account": _record(user, ACCOUNT_COLUMNS),
    }
    for name, section in EXPORTED.items():
        data[name] = _section_rows(section, user)
    return data


def export_json(user: User) -> bytes:
    """The download of the export; logged, like the other exports, although it writes nothing."""
    data = json.dumps(export(user), ensure_ascii=False, indent=2).encode()
    operation(log, "user.data_exported", actor=user, subject=user)
    return data


def export_filename(user: User) -> str:
    return f"participation-personal-data-{user.id}-{utcnow():%Y-%m-%d}.json"


# Deleting an account

# Votes and reports stay (counted, or for the moderators) but point at nobody.
UNLINKED: tuple[InstrumentedAttribute, ...] = (Support.user_id, Ballot.user_id, Report.reporter_id)
# Rows that are nothing but personal data go with the account; with the login sessions,
# every login of the account ends.
REMOVED: tuple[InstrumentedAttribute, ...] = (
    LoginSession.user_id,
    OutboxMail.user_id,
    Follow.user_id,
    Notification.recipient_id,
    NotificationSettings.user_id,
)
# What the person wrote or did in public, or as a moderator, stays with the tombstone.
KEPT: tuple[InstrumentedAttribute, ...] = (
    Proposal.author_id,
    Comment.author_id,
    InitiativeUpdate.author_id,
    AuditEvent.actor_id,
    Consultation.created_by_id,
    Report.resolved_by_id,
    Tally.computed_by_id,
    PaperEntry.entered_by_id,
    # A claimed register entry stays claimed (by the tombstone): its ballot still counts, so
    # nobody may claim it again and vote a second time.
    RegisterEntry.claimed_by_id,
)


def _other_admins(user: User) -> int:
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(User)
        .where(
            User.role == Role.ADMIN,
            User.id != user.id,
            User.deleted_at.is_(None),
            User.is_blocked.is_(False),
        )
    )


def _check_deletable(user: User) -> None:
    if user.is_deleted:
        raise DomainError(_l("This account is already deleted."))
    if user.is_admin and _other_admins(user) == 0:
        raise DomainError(
            _l(
                "This is the only administrator account. Make another account an "
                "administrator before you delete this one."
            )
        )


def _erase(user: User, actor: User, details: dict[str, Any]) -> None:
    """One transaction: the tombstone, the unlinked and removed rows, and the audit event."""
    user_id = user.id
    for column in UNLINKED:
        db.session.execute(
            update(column.class_)
            .where(column == user_id)
            .values({column.key: None})
            .execution_options(synchronize_session=False)
        )
    for column in REMOVED:
        db.session.execute(
            delete(column.class_)
            .where(column == user_id)
            .execution_options(synchronize_session=False)
        )
    user.email = f"deleted-{user_id}@deleted.invalid"
    user.pending_email = None
    user.display_name = ""
    user.password_hash = ERASED_PASSWORD_HASH
    user.locale = None
    user.account_type = AccountType.PERSON
    user.role = Role.CITIZEN
    user.email_confirmed_at = None
    user.deleted_at = utcnow()
    audit.record(
        actor=actor, action="user.deleted", subject_type="user", subject_id=user_id, details=details
    )
    db.session.commit()
    # Votes and reports loaded before the deletion still name the account in memory.
    db.session.expire_all()
    operation(log, "user.deleted", actor=actor, subject=user_id)


def delete_own_account(user: User, password: str) -> None:
    """The person deletes their account, confirming it with their password."""
    if not password or not registration.verify_password(user, password):
        raise ValidationFailed({"password": _l("The password is not right.")})
    _check_deletable(user)
    _erase(user, actor=user, details={"by": "self"})


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed({"reason": _l("Please give the reason for the deletion.")})
    limits.check_length(
        "reason",
        reason,
        MAX_REASON_LENGTH,
        _l("The reason may have at most %(count)d characters.", count=MAX_REASON_LENGTH),
    )
    return reason


def delete_on_request(admin: User, user: User, reason: str | None) -> None:
    """An administrator deletes an account that its owner asked them to delete."""
    if admin is None or not admin.is_authenticated or not admin.is_admin:
        raise NotAllowed(_l("Only administrators can delete other people's accounts."))
    reason = clean_reason(reason)
    if user.id == admin.id:
        raise DomainError(_l("To delete your own account, use the page of your account settings."))
    _check_deletable(user)
    _erase(user, actor=admin, details={"by": "admin", "reason": reason})
