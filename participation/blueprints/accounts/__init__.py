"""Accounts: registering, logging in and out, confirming the address and a new password
(`registration`); a person's settings, login sessions, personal data and deleting the account
(`settings`). One blueprint, `accounts`, whose views live in those two modules."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from participation.extensions import login_manager
from participation.services.accounts import login_sessions

bp = Blueprint("accounts", __name__)


def login_limit() -> str:
    """Tries of a password per IP address: logging in, and confirming a change with it."""
    return current_app.config["LOGIN_RATE_LIMIT"]


def install_login(app: Flask) -> None:
    """Flask-Login for every view: where to log in, and who the cookies name."""
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"
    # The cookies hold the account id and the token of a login session (User.get_id): a
    # blocked or deleted account, or a login that was ended, is a visitor at its next request.
    login_manager.user_loader(login_sessions.user_for)
    app.before_request(_load_the_login_first)


def _load_the_login_first() -> None:
    """Load the account before the view works, so the loader's note of the visit is committed
    alone, never halfway through a view's changes."""
    if request.endpoint != "static":
        current_user._get_current_object()


from participation.blueprints.accounts import registration, settings  # noqa: E402  (they add views to bp)

__all__ = ["bp", "install_login", "login_limit", "registration", "settings"]
