"""Accounts: registration, credentials and roles."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.models import AccountType, Role, User
from participation.services.errors import ValidationFailed

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


def register(
    *,
    email: str,
    display_name: str,
    password: str,
    account_type: AccountType = AccountType.PERSON,
    role: Role = Role.CITIZEN,
) -> User:
    """Create an account, or refuse with every problem at once and store nothing."""
    errors: dict = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as error:
        errors.update(error.errors)
    else:
        if find_by_email(email) is not None:
            errors["email"] = _l("An account with this e-mail address already exists.")
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

    user = User(
        email=email,
        display_name=display_name,
        password_hash=hash_password(password),
        account_type=account_type,
        role=role,
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError as error:  # a simultaneous registration won the race
        db.session.rollback()
        raise ValidationFailed(
            {"email": _l("An account with this e-mail address already exists.")}
        ) from error
    return user


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
