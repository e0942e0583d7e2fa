"""Accounts: registration, credentials and roles; confirming the e-mail address and resetting a
forgotten password through signed links.

Registering on the site (`sign_up`) answers the same whatever the address, like the login and
the reset form: a new address gets an account and the confirmation link, an address that has an
account gets a mail telling its owner, and the form says only where the link went. Both cases
hash the password, so the time of the answer does not tell them apart either.

The links carry a token made with itsdangerous, salted per purpose (a confirmation token is no
reset token) and dated, so it expires. A confirmation token names the account and a digest of the
address it was sent to; a reset token names the account and a digest of its password hash, so it
dies as soon as the password changes, which is what using it does. Neither holds a secret beyond
itself: the digests only tell whether the account is still as it was when the mail was sent.
"""

from __future__ import annotations

import hashlib
import logging

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.logs import operation
from participation.models import AccountType, Role, User
from participation.models.base import utcnow
from participation.services import mail
from participation.services.accounts import login_sessions
from participation.services.errors import InvalidLink, NotConfirmed, ValidationFailed

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
MAX_DISPLAY_NAME_LENGTH = 80


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(user: User, password: str) -> bool:
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
        db.session.commit()
        operation(log, "user.password_rehashed", actor=user, subject=user)
    return True


def normalise_email(email: str) -> str:
    """The address as stored: syntax-checked and lower-cased, so uniqueness ignores case."""
    try:
        result = validate_email(email.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValidationFailed({"email": _l("Please enter a valid e-mail address.")}) from error
    return result.normalized.lower()


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return _l(
            "The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return _l(
            "The password must be at most %(count)d characters long.", count=MAX_PASSWORD_LENGTH
        )
    return None


def find_by_email(email: str) -> User | None:
    return db.session.scalar(db.select(User).where(User.email == email.strip().lower()))


ADDRESS_TAKEN = _l("An account with this e-mail address already exists.")


def _checked_registration(
    email: str, display_name: str, password: str, *, refuse_taken: bool
) -> tuple[str, str]:
    """The address and display name as stored, or every problem of the form at once."""
    errors: dict = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as error:
        errors.update(error.errors)
    else:
        if refuse_taken and find_by_email(email) is not None:
            errors["email"] = ADDRESS_TAKEN
    display_name = " ".join(display_name.split())
    if not display_name:
        errors["display_name"] = _l("Please enter a display name.")
    elif len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        errors["display_name"] = _l(
            "The display name must be at most %(count)d characters long.",
            count=MAX_DISPLAY_NAME_LENGTH,
        )
    problem = password_problem(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationFailed(errors)
    return email, display_name


def _new_account(
    email: str,
    display_name: str,
    password_hash: str,
    account_type: AccountType,
    role: Role,
    confirmed: bool,
) -> User:
    """Add the account (and, unless confirmed, its confirmation mail) and commit; a
    simultaneous registration of the address makes the commit fail with IntegrityError."""
    user = User(
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        account_type=account_type,
        role=role,
        email_confirmed_at=utcnow() if confirmed else None,
    )
    db.session.add(user)
    try:
        db.session.flush()
        if not confirmed:
            queue_confirmation(user)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise
    return user


def register(
    *,
    email: str,
    display_name: str,
    password: str,
    account_type: AccountType = AccountType.PERSON,
    role: Role = Role.CITIZEN,
    confirmed: bool = False,
) -> User:
    """Create an account for the people who run the platform (`flask users create`, the demo
    data), or refuse with every problem at once, a taken address among them, and store nothing.

    With `confirmed=True` the account counts as confirmed; otherwise it gets its confirmation
    mail in the same transaction. The site's registration form uses `sign_up`, which never
    tells whether an address is taken.
    """
    email, display_name = _checked_registration(email, display_name, password, refuse_taken=True)
    try:
        user = _new_account(
            email, display_name, hash_password(password), account_type, role, confirmed
        )
    except IntegrityError as error:  # a simultaneous registration won the race
        raise ValidationFailed({"email": ADDRESS_TAKEN}) from error
    operation(log, "user.registered", actor=None, subject=user, role=role)
    return user


def sign_up(
    *,
    email: str,
    display_name: str,
    password: str,
    account_type: AccountType = AccountType.PERSON,
) -> str:
    """Register on the site: a new citizen account and its confirmation mail, or, for an address
    that has an account, a mail to its owner and nothing else. Refuses only a form with
    problems (all of them at once, storing nothing); a taken address is none.

    Returns the address as stored, for the page that says where the link went.
    """
    email, display_name = _checked_registration(email, display_name, password, refuse_taken=False)
    password_hash = hash_password(password)  # in both cases: the time tells nothing
    owner = find_by_email(email)
    if owner is None:
        try:
            user = _new_account(
                email, display_name, password_hash, account_type, Role.CITIZEN, confirmed=False
            )
        except IntegrityError:  # somebody registered the address a moment ago
            owner = find_by_email(email)
        else:
            operation(log, "user.registered", actor=user, subject=user, role=user.role)
            return email
    if owner is not None:
        _tell_owner_of_registration(owner)
        db.session.commit()
        # Somebody registered with an address that has an account: its owner was told.
        operation(log, "user.registration_repeated", actor=None, subject=owner)
    return email


def _tell_owner_of_registration(owner: User) -> None:
    """Mail the owner of an address that somebody registered with; the caller commits. A
    blocked account, which cannot log in, gets nothing, but the mail is composed all the same."""
    subject, text = mail.compose(
        "account_exists",
        _mail_locale(owner),
        _l("Somebody tried to register with your e-mail address"),
        user=owner,
        login_link=mail.absolute_url("accounts.login"),
        forgot_link=mail.absolute_url("accounts.forgot_password"),
    )
    if owner.is_active:
        _queue_to(owner, mail.ACCOUNT_EXISTS, subject, text)


def authenticate(email: str, password: str) -> User | None:
    """The user with these credentials, or None; blocked users never authenticate."""
    user = find_by_email(email)
    if user is None:
        # Spend the same time as a real check, so timing does not reveal which e-mails exist.
        _hasher().hash(password)
        return None
    if not verify_password(user, password) or user.is_blocked:
        return None
    return user


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()
    operation(log, "user.locale_changed", actor=user, subject=user)


# Signed links

CONFIRM_SALT = "participation.accounts.confirm-email"
RESET_SALT = "participation.accounts.reset-password"

NOT_CONFIRMED = _l(
    "Please confirm your e-mail address first: open the link in the e-mail we sent you. "
    "Until then you can read everything, but not take part."
)
LINK_EXPIRED = _l("This link has expired. Please ask for a new one.")
LINK_INVALID = _l(
    "This link is not valid: it is incomplete, it was already used, or a newer one was sent. "
    "Please ask for a new one."
)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def _load(salt: str, token: str, hours: int) -> dict:
    try:
        data = _serializer(salt).loads(token, max_age=hours * 3600)
    except SignatureExpired as error:
        raise InvalidLink(LINK_EXPIRED) from error
    except BadSignature as error:
        raise InvalidLink(LINK_INVALID) from error
    if not isinstance(data, dict) or not isinstance(data.get("user"), int):
        raise InvalidLink(LINK_INVALID)
    return data


def _account_for(data: dict, field: str, current: str) -> User:
    """The account the token names, as long as `field` still matches what it is now."""
    user = db.session.get(User, data["user"])
    if user is None or data.get(field) != _digest(getattr(user, current)):
        raise InvalidLink(LINK_INVALID)
    return user


def _mail_locale(user: User) -> str | None:
    """The account's language; without one, the language of the page that caused the mail."""
    return user.locale if user.locale in current_app.config["LANGUAGES"] else None


# Confirming the e-mail address


def confirmation_token(user: User) -> str:
    return _serializer(CONFIRM_SALT).dumps({"user": user.id, "email": _digest(user.email)})


def queue_confirmation(user: User) -> bool:
    """Write the mail with the confirmation link into the outbox; the caller commits."""
    hours = current_app.config["CONFIRMATION_LINK_HOURS"]
    subject, text = mail.compose(
        "confirm_email",
        _mail_locale(user),
        _l("Please confirm your e-mail address"),
        user=user,
        link=mail.absolute_url("accounts.confirm_email", token=confirmation_token(user)),
        hours=hours,
    )
    return _queue_to(user, mail.CONFIRM_EMAIL, subject, text)


def _queue_to(user: User, purpose: str, subject: str, text: str) -> bool:
    """Queue a mail about the account to its address; the same purpose within a minute (a button
    pressed twice) queues it once. Returns whether it was queued."""
    return mail.queue(
        recipient=user.email,
        subject=subject,
        text_body=text,
        purpose=purpose,
        idempotency_key=mail.minute_key(f"{purpose}:user-{user.id}"),
        user_id=user.id,
    )


def resend_confirmation(user: User) -> None:
    """A new confirmation link; pressing the button twice in a minute sends one mail."""
    if user.is_confirmed:
        return
    queued = queue_confirmation(user)
    db.session.commit()
    operation(log, "user.confirmation_resent", actor=user, subject=user, queued=queued)


def confirm_email(token: str) -> User:
    """Mark the address the link was sent to as confirmed; opening the link again is harmless."""
    data = _load(CONFIRM_SALT, token, current_app.config["CONFIRMATION_LINK_HOURS"])
    user = _account_for(data, "email", "email")
    if not user.is_confirmed:
        user.email_confirmed_at = utcnow()
        db.session.commit()
        operation(log, "user.confirmed", actor=user, subject=user)
    return user


def require_confirmed(user: User, message: str | LazyString = NOT_CONFIRMED) -> User:
    """Taking part (proposing, commenting, reporting, voting) needs a confirmed address."""
    if not user.is_confirmed:
        raise NotConfirmed(message)
    return user


# Resetting a forgotten password


def password_reset_token(user: User) -> str:
    return _serializer(RESET_SALT).dumps({"user": user.id, "password": _digest(user.password_hash)})


def _reset_mail(user: User) -> tuple[str, str]:
    return mail.compose(
        "reset_password",
        _mail_locale(user),
        _l("Reset your password"),
        user=user,
        link=mail.absolute_url("accounts.reset_password", token=password_reset_token(user)),
        hours=current_app.config["PASSWORD_RESET_LINK_HOURS"],
    )


def request_password_reset(email: str) -> None:
    """Send a reset link if an account (not blocked) has this address; otherwise do the same
    work, a token and a mail, but queue nothing. Either way the caller says the same thing,
    so the answer does not tell whether an address has an account."""
    user = find_by_email(email)
    if user is None or not user.is_active:  # blocked, or deleted (a tombstone's address)
        _reset_mail(User(id=0, email=email, display_name="", password_hash="-"))
        db.session.commit()
        return
    subject, text = _reset_mail(user)
    queued = _queue_to(user, mail.RESET_PASSWORD, subject, text)
    db.session.commit()
    operation(log, "user.password_reset_requested", actor=None, subject=user, queued=queued)


def account_for_reset(token: str) -> User:
    """The account a reset link belongs to, while the link is valid and unused."""
    data = _load(RESET_SALT, token, current_app.config["PASSWORD_RESET_LINK_HOURS"])
    return _account_for(data, "password", "password_hash")


def reset_password(token: str, password: str) -> User:
    """Set a new password through a reset link. The link works once: the new hash no longer
    matches it, and of two requests with the same link only the first changes the hash.

    The link arrived by mail, so the address is confirmed as well; and every session of the
    account ends, in case somebody else was using it.
    """
    user = account_for_reset(token)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed({"password": problem})
    old_hash = user.password_hash
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == old_hash)
        .values(
            password_hash=hash_password(password),
            email_confirmed_at=user.email_confirmed_at or utcnow(),
            updated_at=utcnow(),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise InvalidLink(LINK_INVALID)
    ended = login_sessions.end_all(user)
    db.session.commit()
    db.session.refresh(user)
    operation(log, "user.password_reset", actor=user, subject=user, sessions_ended=ended)
    return user
