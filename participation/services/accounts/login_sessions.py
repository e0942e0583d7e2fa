"""Login sessions, kept on the server: one row per login, so that logging out ends that login
for every copy of its cookies, and an account's logins can be ended all at once.

The session and "stay logged in" cookies hold "account id:token" (User.get_id); the row keeps
only the SHA-256 of the token, which is random and long enough that no key is needed: a copy of
the database opens no session. A login lasts LOGIN_SESSION_DAYS from the moment it began, as
long as the "stay logged in" cookie; older rows are refused, and deleted whenever somebody logs
in. Logging out deletes the row; "log out everywhere", a new or reset password, blocking and
deleting the account delete all rows of the account.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update

from participation.extensions import db
from participation.logs import operation
from participation.models import LoginSession, User
from participation.models.base import utcnow
from participation.services.limits import parse_id

log = logging.getLogger(__name__)

# The last visit is written at most this often: a write on every request would cost more than
# the "last seen" is worth.
SEEN_EVERY = timedelta(minutes=5)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _oldest_valid() -> datetime:
    return utcnow() - timedelta(days=current_app.config["LOGIN_SESSION_DAYS"])


def _aware(moment: datetime) -> datetime:
    """SQLite gives the stored UTC time back without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def start(user: User) -> str:
    """A new login of the account: stores its row and returns the cookie id, which the account
    object now gives as its get_id(). Commits; expired logins of anybody go on the way."""
    token = secrets.token_urlsafe(32)
    db.session.execute(
        delete(LoginSession)
        .where(LoginSession.created_at < _oldest_valid())
        .execution_options(synchronize_session=False)
    )
    login = LoginSession(user_id=user.id, token_hash=token_hash(token))
    db.session.add(login)
    db.session.commit()
    user.login_id = f"{user.id}:{token}"
    operation(log, "login_session.started", actor=user, subject=user, session=login.id)
    return user.login_id


def _parse(cookie_id: str) -> tuple[int, str] | None:
    """The account id and token of a cookie; None for anything else (cookies are signed, but an
    id beyond the column's range must not reach PostgreSQL, which would refuse the query)."""
    text, _, token = cookie_id.partition(":")
    user_id = parse_id(text)
    if user_id is None or not token:
        return None
    return user_id, token


def user_for(cookie_id: str) -> User | None:
    """The account of a login cookie (Flask-Login's user_loader), in one query: while its row
    exists, is younger than LOGIN_SESSION_DAYS and the account may log in (not blocked, not
    deleted). Notes the visit every few minutes."""
    parsed = _parse(cookie_id)
    if parsed is None:
        return None
    user_id, token = parsed
    found = db.session.execute(
        select(User, LoginSession.id, LoginSession.last_seen_at)
        .join(LoginSession, LoginSession.user_id == User.id)
        .where(
            LoginSession.token_hash == token_hash(token),
            User.id == user_id,
            LoginSession.created_at >= _oldest_valid(),
        )
    ).first()
    if found is None:
        return None
    user, session_id, last_seen_at = found
    if not user.is_active:
        return None
    now = utcnow()
    if _aware(last_seen_at) < now - SEEN_EVERY:
        # Flask-Login loads the account before the view does its work (see create_app), so
        # this commit holds nothing but the visit.
        db.session.execute(
            update(LoginSession).where(LoginSession.id == session_id).values(last_seen_at=now)
        )
        db.session.commit()
        operation(
            log,
            "login_session.seen",
            actor=user,
            subject=user,
            session=session_id,
            level=logging.DEBUG,
        )
    user.login_id = cookie_id
    return user


def end(user: User) -> None:
    """Logging out: the login this account object came from ends, for every copy of its
    cookies. Commits."""
    parsed = _parse(user.login_id or "")
    if parsed is not None:
        _, token = parsed
        db.session.execute(
            delete(LoginSession)
            .where(LoginSession.user_id == user.id, LoginSession.token_hash == token_hash(token))
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        operation(log, "login_session.ended", actor=user, subject=user)
    user.login_id = None


def end_all(user: User) -> int:
    """Every login of the account ends; the caller commits, with the change that causes it (a
    new password, blocking, deleting the account), and logs how many there were, which this
    returns."""
    ended = db.session.execute(
        delete(LoginSession)
        .where(LoginSession.user_id == user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    user.login_id = None
    return ended


def log_out_everywhere(user: User) -> None:
    """Every login of the account ends, this one too: for a lost phone, or a computer that
    was not one's own. Commits."""
    ended = end_all(user)
    db.session.commit()
    operation(log, "user.logged_out_everywhere", actor=user, subject=user, sessions_ended=ended)


def count(user: User) -> int:
    """How many logins of the account are open, for the page that offers to end them."""
    return db.session.scalar(
        select(func.count())
        .select_from(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.created_at >= _oldest_valid())
    )
