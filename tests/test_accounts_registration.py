"""The accounts service: registration rules, password hashing and authentication; registering
on the site, which answers the same whatever the address."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import AccountType, OutboxMail, Role, User
from participation.services import accounts, mail
from participation.services.errors import ValidationFailed
from tests.factories import Factory
from tests.helpers import at_the_same_moment
from tests.mailbox import LINK

PASSWORD = "a long enough passphrase"


def _register(**fields) -> User:
    values = {"email": "anna@example.org", "display_name": "Anna", "password": PASSWORD}
    return accounts.register(**(values | fields))


def _user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_register_stores_an_argon2id_hash_and_never_the_password(ctx):
    user = _register()

    stored = db.session.get(User, user.id)
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_register_gives_a_citizen_person_account_by_default(ctx):
    user = _register()

    assert (user.role, user.account_type) == (Role.CITIZEN, AccountType.PERSON)


def test_register_stores_the_email_lower_cased(ctx):
    user = _register(email="  Anna.Schmidt@Example.ORG ")

    assert db.session.get(User, user.id).email == "anna.schmidt@example.org"


def test_register_normalises_whitespace_in_the_display_name(ctx):
    user = _register(display_name="  Anna \t  Maria\nSchmidt ")

    assert user.display_name == "Anna Maria Schmidt"


def test_register_reports_every_field_error_at_once(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _register(email="not an address", display_name="   ", password="short")

    assert set(refused.value.errors) == {"email", "display_name", "password"}


def test_register_stores_nothing_when_refused(ctx):
    with pytest.raises(ValidationFailed):
        _register(password="short")

    db.session.rollback()
    assert _user_count() == 0


def test_register_refuses_an_email_that_differs_only_in_case(ctx):
    _register(email="anna@example.org")

    with pytest.raises(ValidationFailed) as refused:
        _register(email="Anna@Example.org", display_name="Another Anna")

    assert set(refused.value.errors) == {"email"}
    assert _user_count() == 1


def test_register_refuses_a_malformed_email(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _register(email="anna@")

    assert set(refused.value.errors) == {"email"}


def test_register_refuses_a_password_of_eleven_characters(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _register(password="x" * (accounts.MIN_PASSWORD_LENGTH - 1))

    assert set(refused.value.errors) == {"password"}


def test_register_accepts_a_password_of_exactly_twelve_characters(ctx):
    user = _register(password="x" * accounts.MIN_PASSWORD_LENGTH)

    assert accounts.authenticate(user.email, "x" * 12) == user


def test_register_refuses_an_overlong_password(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _register(password="x" * (accounts.MAX_PASSWORD_LENGTH + 1))

    assert set(refused.value.errors) == {"password"}


def test_register_refuses_an_overlong_display_name(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _register(display_name="A" * (accounts.MAX_DISPLAY_NAME_LENGTH + 1))

    assert set(refused.value.errors) == {"display_name"}


def test_register_keeps_the_organisation_account_type_and_role(ctx):
    user = _register(account_type=AccountType.ORGANISATION, role=Role.MODERATOR)

    stored = db.session.get(User, user.id)
    assert (stored.account_type, stored.role) == (AccountType.ORGANISATION, Role.MODERATOR)


def test_authenticate_returns_the_user_for_the_right_credentials(ctx):
    user = _register()

    assert accounts.authenticate("anna@example.org", PASSWORD) == user


def test_authenticate_ignores_case_and_surrounding_spaces_of_the_email(ctx):
    user = _register()

    assert accounts.authenticate("  ANNA@Example.org ", PASSWORD) == user


def test_authenticate_returns_none_for_an_unknown_email(ctx):
    _register()

    assert accounts.authenticate("nobody@example.org", PASSWORD) is None


def test_authenticate_returns_none_for_a_wrong_password(ctx):
    _register()

    assert accounts.authenticate("anna@example.org", PASSWORD + "!") is None


def test_authenticate_returns_none_for_a_blocked_user(ctx):
    user = _register()
    user.is_blocked = True
    db.session.commit()

    assert accounts.authenticate("anna@example.org", PASSWORD) is None


def test_authenticate_upgrades_a_hash_made_with_other_cost_settings(ctx):
    user = _register()
    user.password_hash = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash(PASSWORD)
    db.session.commit()
    old_hash = user.password_hash

    assert accounts.authenticate("anna@example.org", PASSWORD) == user
    assert user.password_hash != old_hash
    assert not accounts.registration._hasher().check_needs_rehash(user.password_hash)


def test_normalise_email_lower_cases_the_address(ctx):
    assert accounts.normalise_email("Anna.Schmidt@Example.ORG") == "anna.schmidt@example.org"


def test_normalise_email_strips_surrounding_whitespace(ctx):
    assert accounts.normalise_email("  anna@example.org\n") == "anna@example.org"


@pytest.mark.parametrize("email", ["", "anna", "anna@", "@example.org", "anna@@example.org"])
def test_normalise_email_refuses_a_malformed_address(ctx, email):
    with pytest.raises(ValidationFailed) as refused:
        accounts.normalise_email(email)

    assert set(refused.value.errors) == {"email"}


def test_find_by_email_ignores_case(ctx):
    user = _register()

    assert accounts.find_by_email("ANNA@EXAMPLE.ORG") == user


def test_set_locale_stores_the_language_on_the_account(ctx):
    user = _register()

    accounts.set_locale(user, "en")

    db.session.expire_all()
    assert db.session.get(User, user.id).locale == "en"


# Registering on the site: the same answer whatever the address


def _sign_up(**fields) -> str:
    values = {"email": "anna@example.org", "display_name": "Anna", "password": PASSWORD}
    return accounts.sign_up(**(values | fields))


def _mails_to(recipient: str) -> list[OutboxMail]:
    return list(
        db.session.scalars(
            select(OutboxMail).where(OutboxMail.recipient == recipient).order_by(OutboxMail.id)
        )
    )


def test_sign_up_creates_an_unconfirmed_account_and_mails_the_link(ctx):
    _sign_up()

    user = accounts.find_by_email("anna@example.org")
    assert user is not None and not user.is_confirmed
    assert [row.purpose for row in _mails_to("anna@example.org")] == [mail.CONFIRM_EMAIL]


def test_sign_up_returns_the_address_as_stored(ctx):
    assert _sign_up(email="  Anna@Example.ORG ") == "anna@example.org"


def test_sign_up_with_an_address_that_has_an_account_creates_nothing(ctx, factory):
    factory.user(email="anna@example.org", display_name="The real Anna")

    _sign_up(email="Anna@example.org", display_name="Somebody else", password="another password")

    assert _user_count() == 1
    owner = accounts.find_by_email("anna@example.org")
    assert owner.display_name == "The real Anna"
    assert accounts.authenticate("anna@example.org", Factory.PASSWORD) == owner


def test_sign_up_with_an_address_that_has_an_account_returns_the_same(ctx, factory):
    factory.user(email="anna@example.org")

    assert _sign_up(email="ANNA@example.org") == "anna@example.org"


def test_sign_up_with_an_address_that_has_an_account_tells_its_owner(ctx, factory):
    owner = factory.user(email="anna@example.org", display_name="Anna Schmidt", locale="en")

    _sign_up()

    [row] = _mails_to("anna@example.org")
    assert (row.purpose, row.user_id) == (mail.ACCOUNT_EXISTS, owner.id)
    assert "Hello Anna Schmidt," in row.text_body
    assert "tried to register with this e-mail address" in row.text_body
    assert set(LINK.findall(row.text_body)) == {
        "http://localhost/account/login",
        "http://localhost/account/password/forgot",
    }


def test_the_owner_is_told_in_their_own_language(ctx, factory):
    factory.user(email="anna@example.org", locale="de")

    _sign_up()

    [row] = _mails_to("anna@example.org")
    assert "versucht, sich mit dieser E-Mail-Adresse zu registrieren" in row.text_body


def test_an_unconfirmed_owner_is_told_how_to_get_a_new_link(ctx, factory):
    factory.user(email="anna@example.org", locale="en", email_confirmed_at=None)

    _sign_up()

    [row] = _mails_to("anna@example.org")
    assert "ask for a new confirmation link" in row.text_body


def test_a_blocked_owner_is_mailed_nothing(ctx, factory):
    factory.user(email="anna@example.org", is_blocked=True)

    _sign_up()

    assert _mails_to("anna@example.org") == []


def test_sign_up_hashes_a_password_whatever_the_address(ctx, factory, monkeypatch):
    """The same work either way, so the time of the answer does not tell either."""
    factory.user(email="anna@example.org")
    hashed: list[str] = []
    real_hash = accounts.hash_password
    monkeypatch.setattr(
        accounts.registration, "hash_password", lambda p: hashed.append(p) or real_hash(p)
    )

    _sign_up(email="anna@example.org")
    _sign_up(email="bruno@example.org")

    assert hashed == [PASSWORD, PASSWORD]


def test_sign_up_reports_every_field_error_at_once(ctx):
    with pytest.raises(ValidationFailed) as refused:
        _sign_up(email="not an address", display_name="   ", password="short")

    assert set(refused.value.errors) == {"email", "display_name", "password"}


def test_sign_up_refused_stores_and_mails_nothing(ctx, factory):
    factory.user(email="anna@example.org")

    with pytest.raises(ValidationFailed):
        _sign_up(password="short")

    db.session.rollback()
    assert _user_count() == 1
    assert _mails_to("anna@example.org") == []


def test_two_sign_ups_for_one_new_address_at_the_same_moment_make_one_account(threaded_app):
    def load(name: str) -> tuple:
        return (name,)

    def act(name: str) -> str:
        return accounts.sign_up(email="anna@example.org", display_name=name, password=PASSWORD)

    outcomes = at_the_same_moment(threaded_app, load, act, [("First",), ("Second",)])

    assert outcomes == ["anna@example.org", "anna@example.org"]
    with threaded_app.app_context():
        assert _user_count() == 1
        purposes = sorted(row.purpose for row in _mails_to("anna@example.org"))
    assert purposes == sorted([mail.CONFIRM_EMAIL, mail.ACCOUNT_EXISTS])
