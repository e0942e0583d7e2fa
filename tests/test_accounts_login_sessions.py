"""Login sessions on the server: one row per login, found by a hash of the token in the cookie,
ended one by one (logging out) or all at once (log out everywhere, a new or reset password,
blocking, deleting the account), and refused once they are older than LOGIN_SESSION_DAYS."""

from __future__ import annotations

import hashlib
from datetime import UTC, timedelta

import pytest
from flask import current_app
from sqlalchemy import event, func, select

from participation.extensions import db
from participation.models import LoginSession, User
from participation.models.base import utcnow
from participation.services import accounts, moderation
from participation.services.accounts import login_sessions, personal_data
from tests.factories import Factory
from tests.helpers import attached

PASSWORD = Factory.PASSWORD
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
def anna(factory, ctx) -> User:
    return attached(User, factory.user(email="anna@example.org", display_name="Anna"))


def new_login(user: User) -> str:
    """The cookie id of a new login of the account, as another device would get it."""
    return login_sessions.start(db.session.get(User, user.id))


def loads(cookie_id: str) -> User | None:
    db.session.expire_all()
    return login_sessions.user_for(cookie_id)


def session_count(user: User) -> int:
    return db.session.scalar(
        select(func.count()).select_from(LoginSession).where(LoginSession.user_id == user.id)
    )


def age(cookie_id: str, **delta: float) -> None:
    """Make the login as old as `delta`, created and last seen then."""
    then = utcnow() - timedelta(**delta)
    row = db.session.scalar(select(LoginSession).order_by(LoginSession.id.desc()))
    assert row is not None
    token_hash = login_sessions.token_hash(cookie_id.partition(":")[2])
    db.session.execute(
        db.update(LoginSession)
        .where(LoginSession.token_hash == token_hash)
        .values(created_at=then, last_seen_at=then)
    )
    db.session.commit()


# Starting and loading


def test_a_login_loads_its_account(anna):
    cookie_id = login_sessions.start(anna)

    assert loads(cookie_id) == anna


def test_the_cookie_holds_the_account_id_and_a_token(anna):
    cookie_id = login_sessions.start(anna)

    user_id, _, token = cookie_id.partition(":")
    assert user_id == str(anna.id)
    assert len(token) >= 40


def test_the_account_logged_in_with_gives_its_cookie_id(anna):
    cookie_id = login_sessions.start(anna)

    assert anna.get_id() == cookie_id


def test_the_loaded_account_gives_the_cookie_id_it_was_loaded_with(anna):
    cookie_id = new_login(anna)

    assert loads(cookie_id).get_id() == cookie_id


def test_each_login_is_a_session_of_its_own(anna):
    first, second = new_login(anna), new_login(anna)

    assert first != second
    assert session_count(anna) == 2


def test_the_token_is_stored_only_as_its_sha256_hash(anna):
    cookie_id = login_sessions.start(anna)
    token = cookie_id.partition(":")[2]

    row = db.session.scalar(select(LoginSession))
    stored = [str(getattr(row, column.key)) for column in LoginSession.__table__.columns]
    assert not any(token in value for value in stored)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    "cookie_id", ["", "abc", "1", "1:", ":token", "x:token", "99999999999999999999:token"]
)
def test_a_malformed_cookie_loads_nobody(anna, cookie_id):
    assert loads(cookie_id) is None


def test_a_cookie_with_another_token_loads_nobody(anna):
    login_sessions.start(anna)

    assert loads(f"{anna.id}:not-the-token") is None


def test_a_token_with_another_account_id_loads_nobody(anna, factory):
    bruno = attached(User, factory.user())
    token = login_sessions.start(anna).partition(":")[2]

    assert loads(f"{bruno.id}:{token}") is None


def test_a_cookie_from_before_sessions_were_rows_loads_nobody(anna):
    """The cookies of the old scheme held the bare id, or the id and the account's token."""
    assert loads(str(anna.id)) is None


def test_a_blocked_account_loads_from_no_session(anna):
    cookie_id = login_sessions.start(anna)
    anna.is_blocked = True
    db.session.commit()

    assert loads(cookie_id) is None


def test_loading_a_login_takes_one_query(anna):
    cookie_id = new_login(anna)
    db.session.expire_all()
    statements: list[str] = []
    engine = db.engine

    def count(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        user = login_sessions.user_for(cookie_id)
        assert user.display_name == "Anna"
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1, statements


# Ending sessions


def test_ending_a_login_stops_its_cookie(anna):
    cookie_id = login_sessions.start(anna)

    login_sessions.end(anna)

    assert loads(cookie_id) is None


def test_ending_one_login_keeps_the_others(anna):
    other_device = new_login(anna)
    login_sessions.start(anna)

    login_sessions.end(anna)

    assert loads(other_device) == anna


def test_ending_every_login_stops_every_cookie(anna):
    cookies = [new_login(anna), new_login(anna)]

    login_sessions.log_out_everywhere(anna)

    assert [loads(cookie_id) for cookie_id in cookies] == [None, None]


def test_ending_every_login_leaves_other_accounts_logged_in(anna, factory):
    bruno = attached(User, factory.user())
    bruno_cookie = new_login(bruno)
    new_login(anna)

    login_sessions.log_out_everywhere(anna)

    assert loads(bruno_cookie) == bruno


def test_a_new_password_ends_the_other_logins_and_renews_this_one(anna):
    this_device = login_sessions.start(anna)
    other_device = new_login(anna)

    accounts.settings.change_password(anna, PASSWORD, NEW_PASSWORD)

    assert (loads(this_device), loads(other_device)) == (None, None)
    assert anna.get_id() not in (this_device, other_device)
    assert loads(anna.get_id()) == anna


def test_a_password_reset_ends_every_login(anna):
    cookie_id = new_login(anna)

    accounts.reset_password(accounts.password_reset_token(anna), NEW_PASSWORD)

    assert loads(cookie_id) is None
    assert session_count(anna) == 0


def test_blocking_an_account_ends_every_login(anna, factory):
    admin = attached(User, factory.admin())
    cookie_id = new_login(anna)

    moderation.block_user(admin, anna)

    assert session_count(anna) == 0
    assert loads(cookie_id) is None


def test_unblocking_does_not_bring_an_old_login_back(anna, factory):
    admin = attached(User, factory.admin())
    cookie_id = new_login(anna)
    moderation.block_user(admin, anna)

    moderation.unblock_user(admin, db.session.get(User, anna.id))

    assert loads(cookie_id) is None


def test_deleting_the_account_ends_every_login(anna):
    cookie_id = new_login(anna)

    personal_data.delete_own_account(anna, PASSWORD)

    assert session_count(anna) == 0
    assert loads(cookie_id) is None


# Expiry


def test_a_login_is_refused_once_it_is_older_than_the_session_days(anna):
    cookie_id = new_login(anna)
    age(cookie_id, days=current_app.config["LOGIN_SESSION_DAYS"], minutes=1)

    assert loads(cookie_id) is None


def test_a_login_works_until_the_session_days_are_over(anna):
    cookie_id = new_login(anna)
    age(cookie_id, days=current_app.config["LOGIN_SESSION_DAYS"], minutes=-1)

    assert loads(cookie_id) == anna


def test_expired_logins_are_deleted_when_somebody_logs_in(anna, factory):
    expired = new_login(anna)
    age(expired, days=current_app.config["LOGIN_SESSION_DAYS"] + 1)

    login_sessions.start(attached(User, factory.user()))

    assert session_count(anna) == 0


def test_the_last_visit_is_noted_after_a_few_minutes(anna):
    cookie_id = new_login(anna)
    age(cookie_id, minutes=10)

    loads(cookie_id)

    seen = db.session.scalar(select(LoginSession.last_seen_at))
    seen = seen if seen.tzinfo else seen.replace(tzinfo=UTC)  # SQLite keeps no time zone
    assert seen > utcnow() - timedelta(minutes=1)


def test_the_last_visit_is_not_written_on_every_request(anna):
    cookie_id = new_login(anna)
    age(cookie_id, minutes=1)
    before = db.session.scalar(select(LoginSession.last_seen_at))

    loads(cookie_id)

    assert db.session.scalar(select(LoginSession.last_seen_at)) == before
