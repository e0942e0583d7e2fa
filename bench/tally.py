"""How long the counting rules take on real elections, and on a generated city-size one.

    .venv/bin/python bench/tally.py                 # our rules on every file + generated
    .venv/bin/python bench/tally.py --pabutools     # also pabutools, in the same run, and the ratio
    .venv/bin/python bench/tally.py --only Assen --no-generated

For every pabulib file (tests/data/pabulib/, the copies of ../shared/pabulib/) and every rule it
prints our time, whether our outcome equals EXPECTED.json, and with --pabutools the time of
pabutools called as ../shared/pabulib/README.md says (about 2 minutes on Warszawa-Ursynów and
8 on Warszawa 2026) and the ratio. The generated election has 500 projects and 100,000
approval ballots of one to eight projects each, with popular and niche projects and voter blocs.
Times are wall-clock seconds: the best of a few runs for counts under a second (ours
and pabutools' alike), one run for longer ones.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from participation.services.budgeting import pabulib, tally
from participation.services.budgeting.tally import Election

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pabulib"
RULES = ("greedy", "equal_shares", "equal_shares_greedy")


def timed(function, *args, within: float = 1.0, most: int = 5):
    """The result and the best wall-clock time of runs repeated while they add up to less
    than `within` seconds (at most `most` runs): short counts vary a lot from run to run on
    a shared machine, long ones hardly do."""
    best, spent, runs = float("inf"), 0.0, 0
    while runs < most and spent < within:
        started = time.perf_counter()
        result = function(*args)
        took = time.perf_counter() - started
        best, spent, runs = min(best, took), spent + took, runs + 1
    return result, best


def pabutools_time(election: Election, rule: str) -> tuple[list[str], float]:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from tests import pabutools_oracle  # test dependency, imported only when asked for

    return timed(pabutools_oracle.funded, election, rule)


def generated(projects: int = 500, ballots: int = 100_000, seed: int = 2026) -> Election:
    """A city-size election: a few very popular projects, many niche ones, neighbourhood blocs
    that approve their own projects together, costs from 5,000 to 400,000."""
    rng = random.Random(seed)
    names = [str(i) for i in range(1, projects + 1)]
    costs = {name: rng.choice(range(5_000, 400_001, 500)) for name in names}
    weights = [1 / (rank + 1) ** 0.8 for rank in range(projects)]
    rng.shuffle(weights)
    districts = [names[i : i + 25] for i in range(0, projects, 25)]
    votes = []
    for _ in range(ballots):
        size = rng.randint(1, 8)
        if rng.random() < 0.4:  # a neighbourhood bloc
            district = rng.choice(districts)
            ballot = set(rng.sample(district, min(size, len(district))))
        else:
            ballot = set(rng.choices(names, weights=weights, k=size))
        votes.append(ballot)
    budget = sum(costs.values()) // 8
    return Election.build(budget, costs, votes)


def line(*cells) -> None:
    print("  ".join(f"{cell:>12}" if i else f"{cell:<40}" for i, cell in enumerate(cells)))
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pabutools", action="store_true", help="time pabutools too (slow)")
    parser.add_argument("--only", help="only files whose name contains this")
    parser.add_argument("--no-generated", action="store_true", help="skip the generated one")
    arguments = parser.parse_args()

    expected = json.loads((DATA / "EXPECTED.json").read_text(encoding="utf-8"))
    line("election / rule", "ours s", "same result", "pabutools s", "ratio", "EXPECTED s")
    for name in sorted(expected):
        if arguments.only and arguments.only not in name:
            continue
        election = pabulib.to_election(pabulib.parse((DATA / name).read_bytes()))
        for rule in RULES:
            outcome, ours = timed(tally.count, election, rule)
            same = list(outcome.funded) == expected[name][rule]["funded"]
            theirs, ratio = "-", "-"
            if arguments.pabutools:
                funded, seconds = pabutools_time(election, rule)
                same = same and funded == list(outcome.funded)
                theirs, ratio = f"{seconds:.2f}", f"{seconds / ours:.1f}x"
            line(
                f"{name.removesuffix('.pb')} {rule}",
                f"{ours:.2f}",
                "yes" if same else "NO",
                theirs,
                ratio,
                f"{expected[name][rule]['pabutools_seconds']:.2f}",
            )
    if not arguments.no_generated:
        election, seconds = timed(generated)
        print(f"generated 500 projects x 100,000 ballots in {seconds:.1f} s")
        for rule in RULES:
            outcome, ours = timed(tally.count, election, rule)
            line(
                f"generated {rule}",
                f"{ours:.2f}",
                f"{len(outcome.funded)} funded",
                "-",
                "-",
                "-",
            )


if __name__ == "__main__":
    main()
