"""The Alembic migrations are the schema: they must agree with the models and undo cleanly."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from participation.extensions import db
from tests import postgres
from tests.conftest import make_app


@pytest.fixture
def fresh_app(backend, database_url, tmp_path):
    """An app on a database of its own, empty, so migrations run from nothing."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrations.db'}"
    else:
        url = postgres.create_extra_database(database_url, "participation_migrations")
    app = make_app(url)
    yield app
    with app.app_context():
        db.engine.dispose()


def _differences(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_migrations_create_exactly_the_schema_of_the_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
    assert _differences(fresh_app) == []


def test_migrations_create_every_table_of_the_models(fresh_app):
    with fresh_app.app_context():
        upgrade()
    assert _tables(fresh_app) == set(db.metadata.tables)


def test_downgrade_to_base_removes_every_table(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
    assert _tables(fresh_app) == set()


def test_upgrade_after_downgrade_gives_the_same_schema_again(fresh_app):
    with fresh_app.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
    assert _differences(fresh_app) == []


def _check_constraints(app) -> dict[str, set[str]]:
    with app.app_context():
        inspector = inspect(db.engine)
        return {
            table: {check["name"] for check in inspector.get_check_constraints(table)}
            for table in inspector.get_table_names()
            if table != "alembic_version"
        }


def test_migrations_create_the_check_constraints_of_the_models(
    fresh_app, backend, database_url, tmp_path
):
    """Autogenerate does not compare CHECK constraints, so compare them with create_all."""
    with fresh_app.app_context():
        upgrade()
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'create_all.db'}"
    else:
        url = postgres.create_extra_database(database_url, "participation_create_all")
    reference = make_app(url)
    with reference.app_context():
        db.create_all()
    try:
        assert _check_constraints(fresh_app) == _check_constraints(reference)
    finally:
        with reference.app_context():
            db.engine.dispose()


def test_accounts_that_exist_before_the_upgrade_count_as_confirmed(fresh_app):
    """Upgrading an installation must not lock its people out of voting."""
    with fresh_app.app_context():
        upgrade(revision="5dfef2e145ae")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role, account_type, "
                    "is_blocked, created_at, updated_at) VALUES ('anna@example.org', 'Anna', 'x', "
                    "'citizen', 'person', false, '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
                )
            )
        upgrade()
        with db.engine.connect() as connection:
            confirmed = connection.execute(text("SELECT email_confirmed_at FROM users")).scalar()
    assert confirmed is not None


def test_a_stored_responsible_body_placeholder_becomes_nothing(fresh_app):
    """Promoting without a body used to store the German placeholder as if it were a body."""
    now = "'2026-01-02 03:04:05'"
    rows = [
        "INSERT INTO users (id, email, display_name, password_hash, role, account_type, "
        f"is_blocked, session_token, created_at, updated_at) VALUES (1, 'a@example.org', 'A', "
        f"'x', 'citizen', 'person', false, 't', {now}, {now})",
        "INSERT INTO consultations (id, slug, title, summary, description, phase, "
        "voting_method, currency, tally_rule, created_at, updated_at) VALUES (1, 'c', 'C', '', "
        f"'', 'closed', 'budget', 'EUR', 'greedy', {now}, {now})",
    ]
    for number, body in ((1, "Wird noch zugewiesen"), (2, "To be assigned"), (3, "Parks")):
        rows.append(
            "INSERT INTO proposals (id, consultation_id, author_id, title, body, state, answer, "
            f"support_count, comment_count, selected, created_at, updated_at) VALUES ({number}, "
            f"1, 1, 'P', 'B', 'published', 'none', 0, 0, true, {now}, {now})"
        )
        rows.append(
            "INSERT INTO initiatives (id, proposal_id, consultation_id, title, responsible_body, "
            f"status, progress_percent, created_at, updated_at) VALUES ({number}, {number}, 1, "
            f"'I', '{body}', 'planned', 0, {now}, {now})"
        )
    with fresh_app.app_context():
        upgrade(revision="1efb07ffc64b")
        with db.engine.begin() as connection:
            for row in rows:
                connection.execute(text(row))
        upgrade()
        with db.engine.connect() as connection:
            bodies = connection.execute(
                text("SELECT responsible_body FROM initiatives ORDER BY id")
            ).scalars()
            assert list(bodies) == [None, None, "Parks"]


def test_downgrading_the_login_sessions_keeps_the_accounts(fresh_app):
    """Going back before the login sessions gives every account a session token again."""
    with fresh_app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, display_name, password_hash, role, account_type, "
                    "is_blocked, created_at, updated_at) VALUES ('anna@example.org', 'Anna', 'x', "
                    "'citizen', 'person', false, '2026-01-02 03:04:05', '2026-01-02 03:04:05')"
                )
            )
        downgrade(revision="1efb07ffc64b")
        with db.engine.connect() as connection:
            tokens = connection.execute(text("SELECT session_token FROM users")).scalars().all()
    assert len(tokens) == 1 and tokens[0]
