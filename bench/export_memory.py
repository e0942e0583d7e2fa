"""How much memory and time does a CSV export of a large consultation take?

Builds one consultation with many proposals (default 50,000, by 5,000 residents, with a
comment each and an initiative for every hundredth) in a throwaway database — SQLite by default,
a throwaway PostgreSQL server with --postgres, or the one in BENCH_DATABASE_URL — and runs a
full export the way the download does, counting the bytes instead of sending them. It prints
the time (measured without tracing) and the peak of Python memory during the export
(tracemalloc; memory that the database driver allocates in C is not included).

    .venv/bin/python bench/export_memory.py [--proposals 50000] [--kind results|...|all]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import tempfile
import time
import tracemalloc

from _common import WORDS as COMMON_WORDS
from _common import add_consultation, add_residents, bench_app
from flask_migrate import upgrade

from participation.extensions import db
from participation.models import Comment, Initiative, Phase, Proposal
from participation.services import exports
from participation.services.exports import Dialect, ExportKind

WORDS = [
    *COMMON_WORDS,
    "Straße",
    "Bürger",
    "Fußgänger",
]


def build(app, users: int, proposals: int) -> None:
    rng = random.Random(7)
    with app.app_context():
        upgrade()
        user_ids = add_residents(users, "Anwohnerin Müller {}")
        consultation = add_consultation(Phase.CLOSED, "Kategorie {}")
        category_ids = [category.id for category in consultation.categories]
        for start in range(0, proposals, 10_000):
            db.session.execute(
                db.insert(Proposal),
                [
                    {
                        "consultation_id": consultation.id,
                        "author_id": rng.choice(user_ids),
                        "category_id": rng.choice(category_ids),
                        "title": " ".join(rng.choices(WORDS, k=6)),
                        "body": " ".join(rng.choices(WORDS, k=120)),
                        "estimated_cost": rng.randint(500, 200_000),
                        "support_count": rng.randint(0, 400),
                        "comment_count": 1,
                        "state": "published",
                    }
                    for _ in range(start, min(start + 10_000, proposals))
                ],
            )
        proposal_ids = list(db.session.scalars(db.select(Proposal.id)))
        db.session.execute(
            db.insert(Comment),
            [
                {"proposal_id": proposal_id, "author_id": rng.choice(user_ids),
                 "body": " ".join(rng.choices(WORDS, k=30)), "state": "published"}
                for proposal_id in proposal_ids
            ],
        )  # fmt: skip
        db.session.execute(
            db.insert(Initiative),
            [
                {"proposal_id": proposal_id, "consultation_id": consultation.id,
                 "title": f"Initiative {proposal_id}", "responsible_body": "Grünflächenamt",
                 "allocated_budget": 10_000, "status": "in_progress", "progress_percent": 40}
                for proposal_id in proposal_ids[::100]
            ],
        )  # fmt: skip
        db.session.commit()


def run_export(app, kind: ExportKind, dialect: Dialect) -> int:
    """The bytes of one full export, consumed chunk by chunk as a download would be."""
    with app.app_context():
        consultation = exports.find_consultation("bench")
        size = 0
        chunks = exports.export(
            consultation, kind, dialect, actor=None, audience=exports.Audience.STAFF
        )
        for chunk in chunks:
            size += len(chunk)
        return size


def measure(app, kind: ExportKind, dialect: Dialect) -> tuple[int, float, int]:
    start = time.perf_counter()
    size = run_export(app, kind, dialect)
    seconds = time.perf_counter() - start
    tracemalloc.start()
    tracemalloc.reset_peak()
    before = tracemalloc.get_traced_memory()[0]
    run_export(app, kind, dialect)
    peak = tracemalloc.get_traced_memory()[1] - before
    tracemalloc.stop()
    return size, seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--proposals", type=int, default=50_000)
    parser.add_argument(
        "--kind",
        choices=[kind.value for kind in ExportKind if kind not in exports.BUDGET_KINDS] + ["all"],
        default="results",
    )
    parser.add_argument("--dialect", choices=[d.value for d in Dialect], default="comma")
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL server")
    args = parser.parse_args()
    # The consultation is decided by supports: it has no ballots to export.
    every = [kind for kind in ExportKind if kind not in exports.BUDGET_KINDS]
    kinds = every if args.kind == "all" else [ExportKind(args.kind)]

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        app, url = bench_app(stack, folder, args.postgres)
        start = time.perf_counter()
        build(app, args.users, args.proposals)
        built = time.perf_counter() - start
        print(f"database: {url.split(':')[0]}; {args.users} users, {args.proposals} proposals "
              f"built in {built:.1f} s; batches of {exports.BATCH_SIZE} rows")  # fmt: skip
        print(f"{'export':<13}{'file MB':>9}{'seconds':>9}{'peak MB':>9}")
        for kind in kinds:
            size, seconds, peak = measure(app, kind, Dialect(args.dialect))
            print(f"{kind.value:<13}{size / 1e6:>9.1f}{seconds:>9.2f}{peak / 1e6:>9.2f}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
