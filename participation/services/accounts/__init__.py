"""Accounts: registering, logging in and the login sessions, confirming the address, resetting
the password; a person's own settings and their personal data.

Other areas import this package, never its modules: `accounts.authenticate(...)` (the names of
`registration`), `accounts.settings`, `accounts.personal_data`, `accounts.login_sessions`."""

from __future__ import annotations

from participation.services.accounts import (
    login_sessions,
    personal_data,
    registration,
    settings,
)
from participation.services.accounts.registration import (
    ADDRESS_TAKEN,
    CONFIRM_SALT,
    LINK_EXPIRED,
    LINK_INVALID,
    MAX_DISPLAY_NAME_LENGTH,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    NOT_CONFIRMED,
    RESET_SALT,
    account_for_reset,
    authenticate,
    confirm_email,
    confirmation_token,
    find_by_email,
    hash_password,
    normalise_email,
    password_problem,
    password_reset_token,
    queue_confirmation,
    register,
    request_password_reset,
    require_confirmed,
    resend_confirmation,
    reset_password,
    set_locale,
    sign_up,
    verify_password,
)

__all__ = [
    "ADDRESS_TAKEN",
    "CONFIRM_SALT",
    "LINK_EXPIRED",
    "LINK_INVALID",
    "MAX_DISPLAY_NAME_LENGTH",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "NOT_CONFIRMED",
    "RESET_SALT",
    "account_for_reset",
    "authenticate",
    "confirm_email",
    "confirmation_token",
    "find_by_email",
    "hash_password",
    "login_sessions",
    "normalise_email",
    "password_problem",
    "password_reset_token",
    "personal_data",
    "queue_confirmation",
    "register",
    "registration",
    "request_password_reset",
    "require_confirmed",
    "resend_confirmation",
    "reset_password",
    "set_locale",
    "settings",
    "sign_up",
    "verify_password",
]
