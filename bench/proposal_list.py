"""How fast is the proposal list of a large consultation?

Builds a consultation with many proposals (default 5,000 residents, 3,000 proposals) in a
throwaway database — SQLite by default, or the one in BENCH_DATABASE_URL — and times the
consultation page through the WSGI stack for each sort, a filter, a search and a deep page.

    .venv/bin/python bench/proposal_list.py [--proposals 3000] [--users 5000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time

from _common import WORDS, add_consultation, add_residents, bench_app
from flask_migrate import upgrade

from participation.extensions import db
from participation.models import Phase, Proposal


def build(app, users: int, proposals: int) -> str:
    rng = random.Random(7)
    with app.app_context():
        upgrade()
        user_ids = add_residents(users, "Resident {}")
        consultation = add_consultation(Phase.COLLECTING, "Category {}")
        category_ids = [category.id for category in consultation.categories]
        db.session.execute(
            db.insert(Proposal),
            [
                {
                    "consultation_id": consultation.id,
                    "author_id": rng.choice(user_ids),
                    "category_id": rng.choice(category_ids),
                    "title": " ".join(rng.choices(WORDS, k=4)),
                    "body": " ".join(rng.choices(WORDS, k=120)),
                    "support_count": rng.randint(0, 400),
                    "state": "published",
                }
                for _ in range(proposals)
            ],
        )
        db.session.commit()
        return f"/consultations/bench?category={category_ids[0]}"


def measure(client, url: str, repeat: int) -> tuple[float, float]:
    client.get(url)  # warm up
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(timings), max(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--proposals", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="use a throwaway PostgreSQL server")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder, contextlib.ExitStack() as stack:
        app, url = bench_app(stack, folder, args.postgres)
        start = time.perf_counter()
        category_url = build(app, args.users, args.proposals)
        print(f"database: {url.split(':')[0]}; {args.users} users, {args.proposals} proposals "
              f"built in {time.perf_counter() - start:.1f} s")  # fmt: skip
        client = app.test_client()
        cases = {
            "newest, page 1": "/consultations/bench",
            "most supported": "/consultations/bench?sort=supported",
            "random": "/consultations/bench?sort=random",
            "one category": category_url,
            "text search": "/consultations/bench?q=Brunnen+Licht",
            "page 100": "/consultations/bench?page=100",
        }
        print(f"{'page':<18}{'median ms':>10}{'max ms':>10}")
        for name, page_url in cases.items():
            median, worst = measure(client, page_url, args.repeat)
            print(f"{name:<18}{median:>10.1f}{worst:>10.1f}")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
