"""A person's own settings: display name, language, password and e-mail address.

Changing the password or the e-mail address needs the current password, so that somebody who
finds a session left open cannot take the account over. A new password ends every login of the
account (accounts.login_sessions) and goes on in a new one on the device where it was changed.
A new e-mail address counts only once its owner opened the link sent to it; until then the
old address stays the login, and it is told about the change.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.logs import operation
from participation.models import User
from participation.models.base import utcnow
from participation.services import audit, mail
from participation.services.accounts import login_sessions, registration
from participation.services.errors import DomainError, InvalidLink, ValidationFailed

log = logging.getLogger(__name__)

CHANGE_EMAIL = "change_email"
EMAIL_CHANGE_NOTICE = "email_change_notice"
CHANGE_EMAIL_SALT = "participation.account-settings.change-email"

WRONG_PASSWORD = _l("The current password is not right.")


# Display name and language


def clean_display_name(display_name: str) -> str:
    """The name as stored, with the rules of registration: spaces collapsed, 1 to 80 characters."""
    display_name = " ".join(display_name.split())
    if not display_name:
        raise ValidationFailed({"display_name": _l("Please enter a display name.")})
    if len(display_name) > registration.MAX_DISPLAY_NAME_LENGTH:
        raise ValidationFailed(
            {
                "display_name": _l(
                    "The display name must be at most %(count)d characters long.",
                    count=registration.MAX_DISPLAY_NAME_LENGTH,
                )
            }
        )
    return display_name


@dataclass
class ProfileSettings:
    display_name: str
    locale: str


def update_profile(user: User, settings: ProfileSettings) -> User:
    """Change the display name and the language, or refuse with every problem and store nothing."""
    errors: dict[str, str | LazyString] = {}
    try:
        display_name = clean_display_name(settings.display_name)
    except ValidationFailed as error:
        errors.update(error.errors)
    if settings.locale not in current_app.config["LANGUAGES"]:
        errors["locale"] = _l("Please choose one of the languages.")
    if errors:
        raise ValidationFailed(errors)
    user.display_name = display_name
    user.locale = settings.locale
    db.session.commit()
    operation(log, "user.profile_changed", actor=user, subject=user)
    return user


# Password


def _require_password(user: User, password: str, field: str = "current_password") -> None:
    if not password or not registration.verify_password(user, password):
        raise ValidationFailed({field: WRONG_PASSWORD})


def change_password(user: User, current_password: str, new_password: str) -> User:
    """A new password, given the current one. Every login of the account ends, somebody else's
    too if they had one; the person goes on in a new login, whose cookie id `user.get_id()`
    gives, for the caller to log them in with."""
    errors: dict[str, str | LazyString] = {}
    try:
        _require_password(user, current_password)
    except ValidationFailed as error:
        errors.update(error.errors)
    problem = registration.password_problem(new_password)
    if problem:
        errors["password"] = problem
    elif not errors and new_password == current_password:
        errors["password"] = _l("The new password is the same as the current one.")
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = registration.hash_password(new_password)
    ended = login_sessions.end_all(user)
    audit.record(
        actor=user, action="user.password_changed", subject_type="user", subject_id=user.id
    )
    login_sessions.start(user)  # commits the new password with it
    operation(log, "user.password_changed", actor=user, subject=user, sessions_ended=ended)
    return user


# E-mail address


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=CHANGE_EMAIL_SALT)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def email_change_token(user: User) -> str:
    """Names the account and a digest of the new address: a newer request kills older links."""
    return _serializer().dumps({"user": user.id, "email": _digest(user.pending_email or "")})


def _mail_locale(user: User) -> str | None:
    return user.locale if user.locale in current_app.config["LANGUAGES"] else None


def _taken(email: str, user: User) -> bool:
    other = registration.find_by_email(email)
    return other is not None and other.id != user.id


def request_email_change(user: User, new_email: str, current_password: str) -> User:
    """Remember the new address and send a confirmation link to it, and a notice to the old one.

    The old address stays the login until the link is opened.
    """
    errors: dict[str, str | LazyString] = {}
    try:
        _require_password(user, current_password)
    except ValidationFailed as error:
        errors.update(error.errors)
    try:
        new_email = registration.normalise_email(new_email)
    except ValidationFailed as error:
        errors.update(error.errors)
    else:
        if new_email == user.email:
            errors["email"] = _l("This is already your e-mail address.")
        elif _taken(new_email, user):
            errors["email"] = _l("An account with this e-mail address already exists.")
    if errors:
        raise ValidationFailed(errors)

    user.pending_email = new_email
    hours = current_app.config["CONFIRMATION_LINK_HOURS"]
    locale = _mail_locale(user)
    subject, text = mail.compose(
        "confirm_new_email",
        locale,
        _l("Please confirm your new e-mail address"),
        user=user,
        link=mail.absolute_url("accounts.confirm_email_change", token=email_change_token(user)),
        hours=hours,
    )
    mail.queue(
        recipient=new_email,
        subject=subject,
        text_body=text,
        purpose=CHANGE_EMAIL,
        idempotency_key=mail.minute_key(f"{CHANGE_EMAIL}:user-{user.id}:{_digest(new_email)}"),
        user_id=user.id,
    )
    subject, text = mail.compose(
        "email_change_notice",
        locale,
        _l("Your e-mail address is about to change"),
        user=user,
        new_email=new_email,
    )
    mail.queue(
        recipient=user.email,
        subject=subject,
        text_body=text,
        purpose=EMAIL_CHANGE_NOTICE,
        idempotency_key=mail.minute_key(
            f"{EMAIL_CHANGE_NOTICE}:user-{user.id}:{_digest(new_email)}"
        ),
        user_id=user.id,
    )
    audit.record(
        actor=user, action="user.email_change_requested", subject_type="user", subject_id=user.id
    )
    db.session.commit()
    operation(log, "user.email_change_requested", actor=user, subject=user)
    return user


def confirm_email_change(token: str) -> User:
    """Make the new address the account's address (and confirmed: the link arrived there)."""
    try:
        data = _serializer().loads(
            token, max_age=current_app.config["CONFIRMATION_LINK_HOURS"] * 3600
        )
    except SignatureExpired as error:
        raise InvalidLink(registration.LINK_EXPIRED) from error
    except BadSignature as error:
        raise InvalidLink(registration.LINK_INVALID) from error
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise InvalidLink(registration.LINK_INVALID)
    user = db.session.get(User, data["user"])
    if (
        user is None
        or not user.is_active
        or not user.pending_email
        or data.get("email") != _digest(user.pending_email)
    ):
        raise InvalidLink(registration.LINK_INVALID)
    if _taken(user.pending_email, user):
        raise DomainError(_l("An account with this e-mail address already exists."))
    user.email = user.pending_email
    user.pending_email = None
    user.email_confirmed_at = utcnow()
    audit.record(actor=user, action="user.email_changed", subject_type="user", subject_id=user.id)
    try:
        db.session.commit()
    except IntegrityError as error:  # another account took the address a moment ago
        db.session.rollback()
        raise DomainError(_l("An account with this e-mail address already exists.")) from error
    operation(log, "user.email_changed", actor=user, subject=user)
    return user


def cancel_email_change(user: User) -> User:
    user.pending_email = None
    db.session.commit()
    operation(log, "user.email_change_cancelled", actor=user, subject=user)
    return user
