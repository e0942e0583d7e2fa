"""Settings, all read from environment variables with safe defaults for development.

`APP_ENV` picks the settings class: `development` (default), `production` or `testing`.
"""

from __future__ import annotations

import os
from datetime import timedelta


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(default: str) -> str:
    """Turn the `DATABASE_URL` forms that hosts hand out into SQLAlchemy's psycopg 3 form."""
    url = os.environ.get("DATABASE_URL", default)
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


# Good enough on one's own machine, refused in production.
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    # The key of the hashes that are all the database keeps of voting codes and register
    # entries (services.budgeting.electorate); without it, one derived from SECRET_KEY.
    VOTER_SECRET = os.environ.get("VOTER_SECRET") or None
    SQLALCHEMY_DATABASE_URI = database_url("sqlite:///participation.db")
    # A database error's text leaves out the statement's values (addresses, ballot codes …), so
    # that the traceback of an error in a view logs none of them (participation.logs).
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "hide_parameters": True}
    SQLALCHEMY_RECORD_QUERIES = False

    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "de")
    BABEL_DEFAULT_TIMEZONE = os.environ.get("BABEL_DEFAULT_TIMEZONE", "Europe/Berlin")
    LANGUAGES = ("de", "en")

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    # A login (services.accounts.login_sessions) ends this many days after it began, with or without
    # "stay logged in", whose cookie (Flask-Login's) lasts as long and is guarded like the
    # session cookie.
    LOGIN_SESSION_DAYS = max(1, int(os.environ.get("LOGIN_SESSION_DAYS", "30")))
    REMEMBER_COOKIE_DURATION = timedelta(days=LOGIN_SESSION_DAYS)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute")
    # Registrations, reset links and new confirmation links a visitor can ask for, per IP
    # address and per e-mail address: nobody can flood someone's mailbox through the platform.
    ACCOUNT_MAIL_RATE_LIMIT = os.environ.get("ACCOUNT_MAIL_RATE_LIMIT", "5 per hour")
    # Look-ups of a ballot by a code that no ballot has, per IP address (OpenStad locks out
    # after 20 wrong voting codes in 15 minutes); codes that are found do not count.
    BALLOT_LOOKUP_RATE_LIMIT = os.environ.get("BALLOT_LOOKUP_RATE_LIMIT", "20 per 15 minutes")
    # Wrong voting codes (not a code, a typo, no such code) per IP address, OpenStad's rule;
    # right codes do not count.
    VOTING_CODE_RATE_LIMIT = os.environ.get("VOTING_CODE_RATE_LIMIT", "20 per 15 minutes")
    # Wrong tries to confirm one's entry on a voter register, per IP address; claims that
    # succeed do not count.
    VOTER_REGISTER_RATE_LIMIT = os.environ.get("VOTER_REGISTER_RATE_LIMIT", "20 per 15 minutes")

    # Links in e-mails start with this address (scheme, host and any path prefix), never with
    # the Host header of the request that caused the mail; required in production.
    PUBLIC_URL = os.environ.get("PUBLIC_URL", "")
    CONFIRMATION_LINK_HOURS = int(os.environ.get("CONFIRMATION_LINK_HOURS", "72"))
    PASSWORD_RESET_LINK_HOURS = int(os.environ.get("PASSWORD_RESET_LINK_HOURS", "2"))

    # Outgoing e-mail: `flask mail send` delivers the outbox. `console` prints the mails.
    MAIL_BACKEND = os.environ.get("MAIL_BACKEND", "console")
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "localhost")
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS on a plain connection (port 587)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)  # TLS from the first byte (port 465)
    MAIL_PORT = int(
        os.environ.get("MAIL_PORT", "465" if MAIL_USE_SSL else "587" if MAIL_USE_TLS else "25")
    )
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_FROM = os.environ.get("MAIL_FROM", "Participation <noreply@localhost>")
    MAIL_TIMEOUT = int(os.environ.get("MAIL_TIMEOUT", "30"))
    # The web server delivers the outbox itself every this many seconds (0: never). On in
    # development, so that `make run` shows the mails without `flask mail send`; production
    # runs `flask mail send` from cron or a timer instead.
    MAIL_SEND_IN_PROCESS_SECONDS = float(os.environ.get("MAIL_SEND_IN_PROCESS_SECONDS", "0"))
    # A failed mail is tried again after 1, 2, 4 … minutes (at most 6 hours apart), and given
    # up after this many attempts; its last error stays in the outbox.
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "10"))
    MAIL_RETRY_SECONDS = int(os.environ.get("MAIL_RETRY_SECONDS", "60"))
    # Sent mails (their bodies hold links that work until they expire) are deleted by
    # `flask mail send` this many days after they went out; at least 2, so that no
    # idempotency key of a day is forgotten while it can still be used.
    MAIL_KEEP_DAYS = max(2, int(os.environ.get("MAIL_KEEP_DAYS", "30")))

    # Argon2id cost; the defaults are argon2-cffi's recommended RFC 9106 low-memory profile.
    ARGON2_TIME_COST = int(os.environ.get("ARGON2_TIME_COST", "3"))
    ARGON2_MEMORY_COST = int(os.environ.get("ARGON2_MEMORY_COST", "65536"))
    ARGON2_PARALLELISM = int(os.environ.get("ARGON2_PARALLELISM", "4"))

    # Operational logs (participation.logs): "text" lines, or one JSON object per line ("json"),
    # for a log collector; the level is one of Python's (DEBUG, INFO, WARNING …).
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")

    PROPOSALS_PER_PAGE = int(os.environ.get("PROPOSALS_PER_PAGE", "12"))
    SEEDS_DIR = os.environ.get("SEEDS_DIR", os.path.join(os.path.dirname(__file__), "seeds"))


class DevelopmentConfig(Config):
    DEBUG = _bool("FLASK_DEBUG", False)
    MAIL_SEND_IN_PROCESS_SECONDS = float(os.environ.get("MAIL_SEND_IN_PROCESS_SECONDS", "2"))


class ProductionConfig(Config):
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE

    @staticmethod
    def check(settings: dict) -> None:
        """Refuse to start production with the development secret, or without the address that
        links in e-mails point to (a reset link built from a forged Host header would hand the
        token to another site)."""
        if not os.environ.get("SECRET_KEY") or settings.get("SECRET_KEY") == DEVELOPMENT_SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY must be set in the environment when APP_ENV=production "
                '(for example: python -c "import secrets; print(secrets.token_hex(32))").'
            )
        if not settings.get("PUBLIC_URL", "").startswith(("https://", "http://")):
            raise RuntimeError(
                "PUBLIC_URL must be set in the environment when APP_ENV=production: the address "
                "of the site that links in e-mails use, for example https://participation.town.example"
            )


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    RATELIMIT_ENABLED = False
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 8
    ARGON2_PARALLELISM = 1


CONFIGS = {
    "development": DevelopmentConfig,
    "production": ProductionConfig,
    "testing": TestingConfig,
}
