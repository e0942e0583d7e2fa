"""Accounts: registering, logging in and out, confirming the address and a new password
(`registration`); a person's settings, login sessions, personal data and deleting the account
(`settings`). One blueprint, `accounts`, whose views live in those two modules."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from participation.blueprints.accounts import registration, settings  # noqa: E402  (they add views to bp)

__all__ = ["bp", "registration", "settings"]
