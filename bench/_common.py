"""What the benchmarks share: the throwaway app and database, and the residents and
consultation every benchmark starts from.

Importing this module puts the project on sys.path and selects the testing configuration,
so a benchmark imports it before anything from `participation`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("APP_ENV", "testing")

from participation import create_app
from participation.extensions import db
from participation.models import Category, Consultation, User

WORDS = [
    "Baum",
    "Radweg",
    "Spielplatz",
    "Bank",
    "Brunnen",
    "Licht",
    "Bus",
    "Schule",
    "Park",
    "Platz",
    "Markt",
    "Kultur",
    "Sport",
    "Wasser",
    "Grün",
    "Sicherheit",
    "Jugend",
    "Senioren",
    "Bibliothek",
    "Fest",
]


def bench_app(stack: contextlib.ExitStack, folder: str, postgres: bool):
    """The app and its database URL: BENCH_DATABASE_URL, a throwaway PostgreSQL server
    (kept alive by `stack`) or SQLite in `folder`."""
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{folder}/bench.db")
    if postgres:
        from tests.postgres import throwaway_server

        url = stack.enter_context(throwaway_server())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "RATELIMIT_ENABLED": False})
    return app, url


def add_residents(users: int, display_name: str) -> list[int]:
    """Insert `users` citizens (`display_name` is formatted with their number); their ids."""
    db.session.execute(
        db.insert(User),
        [
            {"email": f"resident{i}@example.org", "display_name": display_name.format(i),
             "password_hash": "x", "role": "citizen", "account_type": "person"}
            for i in range(users)
        ],
    )  # fmt: skip
    return list(db.session.scalars(db.select(User.id)))


def add_consultation(phase, category_name: str) -> Consultation:
    """The consultation "bench" in `phase` with eight categories (`category_name` is
    formatted with their position)."""
    consultation = Consultation(
        slug="bench", title="Bench", phase=phase,
        categories=[Category(name=category_name.format(i), position=i) for i in range(8)],
    )  # fmt: skip
    db.session.add(consultation)
    db.session.flush()
    return consultation
