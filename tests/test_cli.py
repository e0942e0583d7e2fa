"""flask commands: `flask users create` and `flask seed`, through Flask's CLI test runner."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from participation.cli import PASSWORD_VARIABLE
from participation.extensions import db
from participation.models import AccountType, Consultation, Proposal, Role, User
from participation.services import accounts

PASSWORD = "a long enough passphrase"


@pytest.fixture
def runner(app: Flask, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(PASSWORD_VARIABLE, raising=False)
    return app.test_cli_runner()


def stored_user(app: Flask, email: str) -> User | None:
    with app.app_context():
        user = accounts.find_by_email(email)
        if user is not None:
            db.session.expunge(user)
        return user


def row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in (User, Consultation, Proposal)
        }


# flask users create


def test_users_create_takes_the_password_from_the_environment(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    result = runner.invoke(
        args=["users", "create", "--email", "mod@example.org", "--role", "moderator"]
    )

    assert result.exit_code == 0, result.output
    user = stored_user(app, "mod@example.org")
    assert user.role is Role.MODERATOR


def test_users_create_stores_a_password_that_logs_in(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    runner.invoke(args=["users", "create", "--email", "mod@example.org", "--role", "moderator"])

    with app.app_context():
        assert accounts.authenticate("mod@example.org", PASSWORD) is not None


def test_users_create_asks_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "admin@example.org", "--role", "admin"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    assert stored_user(app, "admin@example.org").role is Role.ADMIN


def test_users_create_does_not_echo_the_prompted_password(runner):
    result = runner.invoke(
        args=["users", "create", "--email", "admin@example.org"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert PASSWORD not in result.output


def test_users_create_stores_nothing_when_the_repeated_password_differs(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "anna@example.org"],
        input=f"{PASSWORD}\nsomething else entirely\n",
    )

    assert result.exit_code != 0
    assert stored_user(app, "anna@example.org") is None


def test_users_create_refuses_a_weak_password(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, "short")

    result = runner.invoke(args=["users", "create", "--email", "anna@example.org"])

    assert result.exit_code != 0
    assert "password" in result.output
    assert stored_user(app, "anna@example.org") is None


def test_users_create_refuses_a_weak_prompted_password(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "anna@example.org"], input="pw\npw\n"
    )

    assert result.exit_code != 0
    assert stored_user(app, "anna@example.org") is None


def test_users_create_refuses_a_duplicate_email_ignoring_case(app, runner, factory, monkeypatch):
    factory.user(email="anna@example.org")
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    result = runner.invoke(args=["users", "create", "--email", "Anna@Example.org"])

    assert result.exit_code != 0
    assert row_counts(app)["User"] == 1


def test_users_create_never_accepts_the_password_as_an_option(app, runner):
    result = runner.invoke(
        args=["users", "create", "--email", "anna@example.org", "--password", PASSWORD],
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )

    assert result.exit_code == 2
    assert "--password" in result.output
    assert stored_user(app, "anna@example.org") is None


def test_users_create_refuses_an_unknown_role(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    result = runner.invoke(
        args=["users", "create", "--email", "anna@example.org", "--role", "superuser"]
    )

    assert result.exit_code == 2
    assert stored_user(app, "anna@example.org") is None


def test_users_create_makes_a_citizen_by_default(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    runner.invoke(args=["users", "create", "--email", "anna@example.org"])

    assert stored_user(app, "anna@example.org").role is Role.CITIZEN


def test_users_create_can_make_an_organisation_account(app, runner, monkeypatch):
    monkeypatch.setenv(PASSWORD_VARIABLE, PASSWORD)

    runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "verein@example.org",
            "--display-name",
            "Radverein e. V.",
            "--organisation",
        ]
    )

    user = stored_user(app, "verein@example.org")
    assert (user.display_name, user.account_type) == ("Radverein e. V.", AccountType.ORGANISATION)


# flask seed


def test_seed_loads_users_consultations_and_proposals(app, runner):
    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    counts = row_counts(app)
    assert counts["User"] > 0
    assert counts["Consultation"] > 0
    assert counts["Proposal"] > 0


def test_seed_prints_two_voting_codes_that_work(app, runner):
    from participation.services.budgeting import ballots

    result = runner.invoke(args=["seed"])
    assert "Voting codes of the letters" in result.output
    code = r"^  ([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})  "
    printed = re.findall(code, result.output, re.M)
    assert len(printed) == 2
    with app.app_context():
        voting = db.session.scalar(
            select(Consultation).where(Consultation.slug == "buergerhaushalt-2027")
        )
        for code in printed:
            assert ballots.ballot_for_code(voting, code) is None


def test_seed_prints_the_logins_and_a_ballot_code_to_look_up(runner):
    result = runner.invoke(args=["seed"])
    assert ("anna@example.org" in result.output, "Ballot codes to look up" in result.output) == (
        True,
        True,
    )


def test_seed_twice_does_not_duplicate_anything(app, runner):
    runner.invoke(args=["seed"])
    after_first = row_counts(app)

    result = runner.invoke(args=["seed"])

    assert result.exit_code == 0, result.output
    assert row_counts(app) == after_first


def test_seed_again_reports_that_it_created_nothing(runner):
    runner.invoke(args=["seed"])

    result = runner.invoke(args=["seed"])

    assert "created 0 users, 0 consultations, 0 proposals" in result.output


def test_seed_prints_the_demo_logins(runner):
    result = runner.invoke(args=["seed"])

    for role in ("admin", "moderator", "citizen"):
        assert role in result.output
    assert "admin@example.org" in result.output
    assert "demo-admin-password" in result.output


def test_seed_demo_logins_work(app, runner):
    runner.invoke(args=["seed"])

    with app.app_context():
        admin = accounts.authenticate("admin@example.org", "demo-admin-password")
        assert admin is not None and admin.is_admin


def test_seed_quiet_does_not_print_the_passwords(runner):
    result = runner.invoke(args=["seed", "--quiet"])

    assert result.exit_code == 0, result.output
    assert "demo-admin-password" not in result.output
