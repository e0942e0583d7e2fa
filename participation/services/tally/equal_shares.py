"""`equal_shares`: the Method of Equal Shares with cost utilities and Add1 completion.

The rule (https://equalshares.net): the budget is split equally among the voters. A project is
bought by its supporters; each supporter pays the same amount `alpha`, or everything they have
left if that is less. In every round the rule funds the project whose supporters pay the least
per unit of the project's value (with cost utilities: the smallest `alpha / cost`), among the
projects its supporters can still afford. It stops when no project is affordable.

Add1 completion: that usually leaves money unspent, so the count is repeated with every voter's
share raised by one currency unit, as long as the outcome stays within the total budget; the
last outcome within budget counts, and the repetition also ends as soon as an outcome is
exhaustive (no further project would fit). On Assen 2024 this gives exactly what the city
funded.

All of this is what pabutools 1.2.3 computes with
`method_of_equal_shares(instance, profile, sat_class=Cost_Sat, voter_budget_increment=1)`:

- shares start at budget / number of ballots (empty ballots hold a share too);
- ties (equal `alpha / cost`) go to the project whose id is smaller as a string;
- projects without supporters never are funded, nor are free ones (with cost satisfaction
  a free project satisfies nobody; `equal_shares_greedy` adds them at the end);
- arithmetic is exact: `fractions.Fraction` throughout, never floats.

How it is fast. pabutools recounts from scratch for every raise of the shares (hundreds of
times on a city-size election) and looks at every voter. Here:

1. Voters with the same ballot are one group; voters who paid for the same funded projects
   have the same money left, so they form one *class*; a project's supporters are a few
   classes with a count each, not thousands of voters.
2. Every amount in a count is an affine function `a + v*t` of the raise `t` (shares are
   `budget/n + t`, and payments are sums and quotients of such amounts by whole numbers). Each
   round records every comparison its decision rests on, and from them the first raise at
   which any of them could turn out differently. The next raise reuses all the rounds that are
   still certain and recounts only from the first one that is not; raises at which nothing can
   change are skipped altogether, since they give the same outcome.

The tests compare the outcome with pabutools on real elections and on random small ones with
ties (tests/test_tally_pabutools.py), and with the plain transcription in `reference.py`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction

from gmpy2 import mpq as Q

from participation.services.tally.election import Election, Money, Outcome

NAME = "equal_shares"

ZERO = Q(0)
ONE = Q(1)
# An affine amount a + v*t of the raise t.
Affine = tuple[Fraction, Fraction]
EXHAUSTED: Affine = (ZERO, ZERO)


def _value(amount: Affine, t: int) -> Fraction:
    return amount[0] + amount[1] * t


def _first(entry: tuple) -> Fraction:
    return entry[0]


class _Horizon:
    """The first raise at which one of the recorded comparisons could come out differently."""

    __slots__ = ("t", "until")

    def __init__(self, t: int) -> None:
        self.t = t
        self.until: int | None = None  # None: never

    def limit(self, at: int) -> None:
        if self.until is None or at < self.until:
            self.until = at

    def keep(self, left: Affine, right: Affine, difference: Q, or_equal: bool = False) -> None:
        """Record that `left - right` (= `difference` at t, not zero unless `or_equal`) keeps
        its sign; with `or_equal`, that `left >= right` stays true."""
        slope = left[1] - right[1]
        if difference == 0:
            if slope < 0 or (slope > 0 and not or_equal):
                self.limit(self.t + 1)
            return
        if slope == 0 or (slope > 0) == (difference > 0):
            return  # moving apart
        crossing = self.t - difference / slope  # > t
        floor = int(crossing.numerator // crossing.denominator)
        if or_equal:
            self.limit(floor + 1)  # equality at the crossing is still fine
        else:
            self.limit(floor + 1 if floor < crossing else floor)  # ceil


class _Price:
    """A priced candidate: `price` = alpha / cost (None: unaffordable), `value` = alpha at
    the raise (or available - cost when unaffordable), `alpha` affine (or what the
    supporters have, when unaffordable), `poor` the supporters who cannot pay alpha."""

    __slots__ = ("alpha", "poor", "price", "price_value", "value")

    def __init__(self, price: Affine | None, value: Q, alpha: Affine, poor: list, cost: Q) -> None:
        self.price = price
        self.value = value
        self.alpha = alpha
        self.poor = poor
        self.price_value = None if price is None else value / cost


@dataclass
class _Round:
    chosen: int | None  # candidate index, None: the count ended
    until: int | None  # recount from the first raise >= until
    undo: list = field(default_factory=list)


class _Count:
    """The state of one count of equal shares, rolled forward and back by rounds."""

    def __init__(self, election: Election) -> None:
        costs, approvals = election.costs, election.approvals
        self.names = sorted(p for p in costs if approvals[p] and costs[p] > 0)
        index = {name: i for i, name in enumerate(self.names)}
        self.costs = [Q(costs[name]) for name in self.names]
        groups = Counter(
            frozenset(index[p] for p in ballot if p in index) for ballot in election.ballots
        )
        self.ballots = [ballot for ballot in groups if ballot]
        self.weights = [groups[ballot] for ballot in self.ballots]
        self.start: Affine = (Q(election.budget) / len(election.ballots), ONE)

        # Class 0 holds every voter who supports a candidate; classes split as projects are
        # funded. Classes are numbered like a stack, so undoing a split frees the last one.
        self.members: list[list[int]] = [list(range(len(self.ballots)))]
        self.sizes: list[int] = [sum(self.weights)]
        self.budgets: list[Affine] = [self.start]
        self.supporters: list[dict[int, int]] = [{} for _ in self.names]
        for group, ballot in enumerate(self.ballots):
            for candidate in ballot:
                self.supporters[candidate][0] = (
                    self.supporters[candidate].get(0, 0) + self.weights[group]
                )
        # Lower bounds of alpha / cost; a project's alpha never falls, as budgets only shrink.
        self.bounds: list[Affine] = [(Q(1, sum(s.values())), ZERO) for s in self.supporters]
        self.alive = set(range(len(self.names)))
        self.funded: list[int] = []
        self.shares: dict[int, Affine] = {}
        self.rounds: list[_Round] = []
        # Budgets of classes at the raise being counted, computed when first needed.
        self.values: dict[int, Fraction] = {}
        self.values_at = 0
        self.split_cache: dict[int, tuple[list[int], dict[int, tuple]]] = {}
        self.bound_values: dict[int, tuple[int, Q]] = {}

    def _value(self, klass: int, t: int) -> Fraction:
        if t != self.values_at:
            self.values.clear()
            self.values_at = t
        value = self.values.get(klass)
        if value is None:
            value = self.values[klass] = _value(self.budgets[klass], t)
        return value

    # -- one round -------------------------------------------------------------------------

    def _price(self, candidate: int, t: int) -> _Price | None:
        """The price (alpha / cost) of the candidate at raise t; None if unaffordable."""
        cost = self.costs[candidate]
        budgets = self.budgets
        value = self._value
        entries = [
            (value(klass, t), count, klass)
            for klass, count in self.supporters[candidate].items()
            if budgets[klass] is not EXHAUSTED
        ]
        entries.sort(key=_first)
        remaining = sum(entry[1] for entry in entries)
        paid = ZERO
        poor = 0
        for amount, count, _ in entries:
            if cost - paid <= amount * remaining:  # alpha <= this class's budget: rich
                break
            paid += amount * count
            remaining -= count
            poor += 1
        paid_a, paid_v = ZERO, ZERO
        for _, count, klass in entries[:poor]:
            budget = budgets[klass]
            paid_a += budget[0] * count
            paid_v += budget[1] * count
        if remaining == 0:
            return _Price(None, paid - cost, (paid_a, paid_v), entries, cost)
        alpha: Affine = ((cost - paid_a) / remaining, -paid_v / remaining)
        price = (alpha[0] / cost, alpha[1] / cost)
        return _Price(price, (cost - paid) / remaining, alpha, entries[:poor], cost)

    def _bound_value(self, candidate: int, t: int) -> Q:
        cached = self.bound_values.get(candidate)
        if cached is None or cached[0] != t:
            cached = self.bound_values[candidate] = (t, _value(self.bounds[candidate], t))
        return cached[1]

    def _step(self, t: int) -> _Round:
        """One round at raise t, with the comparisons its outcome rests on.

        Prices only fall as the raise grows (supporters get richer), and a price computed with
        a supporter counted as poor who has become rich is too low, never too high. So the
        price formulas of the projects that were not chosen stay lower bounds at larger raises:
        only the chosen project's poor supporters, and the comparisons of the other projects'
        formulas with the chosen price, limit how long this round stays valid.
        """
        horizon = _Horizon(t)
        undo: list = []
        best: _Price | None = None
        tied: list[int] = []
        priced: list[tuple[int, _Price]] = []
        order = sorted(self.alive, key=lambda c: self._bound_value(c, t))
        unpriced = []
        for candidate in order:
            if best is not None and self._bound_value(candidate, t) > best.price_value:
                unpriced.append(candidate)
                continue
            price = self._price(candidate, t)
            if price.price is None:  # out of reach: available < cost
                horizon.keep(price.alpha, (self.costs[candidate], ZERO), price.value)
                self.alive.discard(candidate)
                undo.append(("revive", candidate))
                continue
            undo.append(("bound", candidate, self.bounds[candidate]))
            self.bounds[candidate] = price.price
            self.bound_values[candidate] = (t, price.price_value)
            priced.append((candidate, price))
            if best is None or price.price_value < best.price_value:
                best, tied = price, [candidate]
            elif price.price_value == best.price_value:
                tied.append(candidate)
        if best is None:
            return _Round(chosen=None, until=horizon.until, undo=undo)
        chosen = min(tied, key=lambda c: self.names[c])
        # Tied projects have the same price (alpha / cost), not the same alpha.
        best = next(price for candidate, price in priced if candidate == chosen)
        name = self.names[chosen]
        for candidate, price in priced:
            if candidate != chosen:
                horizon.keep(
                    price.price,
                    best.price,
                    price.price_value - best.price_value,
                    or_equal=self.names[candidate] > name,
                )
        for candidate in unpriced:
            horizon.keep(
                self.bounds[candidate],
                best.price,
                self._bound_value(candidate, t) - best.price_value,
                or_equal=self.names[candidate] > name,
            )
        # The chosen project's price is exact only while its poor supporters stay poor.
        for amount, _, klass in best.poor:
            horizon.keep(self.budgets[klass], best.alpha, amount - best.value)
        self._fund(chosen, best.alpha, t, undo)
        return _Round(chosen=chosen, until=horizon.until, undo=undo)

    def _fund(self, chosen: int, alpha: Affine, t: int, undo: list) -> None:
        alpha_value = _value(alpha, t)
        self.alive.discard(chosen)
        self.funded.append(chosen)
        self.shares[chosen] = alpha
        undo.append(("unfund", chosen))
        for klass in self._split_supporters(chosen, undo):
            budget = self.budgets[klass]
            if budget is EXHAUSTED:
                continue
            undo.append(("budget", klass, budget))
            before = self._value(klass, t)
            if before < alpha_value:
                self.budgets[klass] = EXHAUSTED
                self.values[klass] = ZERO
            else:
                self.budgets[klass] = (budget[0] - alpha[0], budget[1] - alpha[1])
                self.values[klass] = before - alpha_value

    def _split_supporters(self, chosen: int, undo: list) -> list[int]:
        """Split every class that can still pay into the supporters of `chosen` and the
        others; return the classes of its supporters.

        How a class splits depends only on its members, not on the raise: each split is
        computed once and replayed when a later raise funds the same project from the same
        class again (classes are identified by their list of members, which undoing a split
        restores).
        """
        paying = []
        for klass, count in list(self.supporters[chosen].items()):
            if self.budgets[klass] is EXHAUSTED:
                continue  # these voters never pay again: no need to tell them apart
            if count == self.sizes[klass]:
                paying.append(klass)
                continue
            members = self.members[klass]
            known = self.split_cache.get(id(members))
            if known is None or known[0] is not members:
                known = self.split_cache[id(members)] = (members, {})
            split = known[1].get(chosen)
            if split is None:
                split = known[1][chosen] = self._compute_split(members, chosen)
            staying, moving, deltas = split
            new = len(self.sizes)
            undo.append(("split", klass, members, deltas))
            self.members[klass] = staying
            self.members.append(moving)
            self.sizes[klass] -= count
            self.sizes.append(count)
            self.budgets.append(self.budgets[klass])
            for candidate, weight in deltas:
                counts = self.supporters[candidate]
                left = counts[klass] - weight
                if left:
                    counts[klass] = left
                else:
                    del counts[klass]
                counts[new] = weight
            paying.append(new)
        return paying

    def _compute_split(self, members: list[int], chosen: int) -> tuple:
        ballots, weights = self.ballots, self.weights
        moving, staying = [], []
        for group in members:
            (moving if chosen in ballots[group] else staying).append(group)
        deltas: dict[int, int] = {}
        for group in moving:
            weight = weights[group]
            for candidate in ballots[group]:
                deltas[candidate] = deltas.get(candidate, 0) + weight
        return staying, moving, tuple(deltas.items())

    def _undo(self, round_: _Round) -> None:
        for entry in reversed(round_.undo):
            kind = entry[0]
            if kind == "revive":
                self.alive.add(entry[1])
            elif kind == "bound":
                self.bounds[entry[1]] = entry[2]
                self.bound_values.pop(entry[1], None)
            elif kind == "unfund":
                self.alive.add(entry[1])
                self.funded.pop()
                del self.shares[entry[1]]
            elif kind == "budget":
                self.budgets[entry[1]] = entry[2]
                self.values.pop(entry[1], None)
            else:  # split
                self._merge(*entry[1:])

    def _merge(self, klass: int, members: list[int], deltas: tuple) -> None:
        new = len(self.sizes) - 1
        self.members.pop()
        self.members[klass] = members
        self.sizes[klass] += self.sizes.pop()
        self.budgets.pop()
        self.values.pop(new, None)
        for candidate, weight in deltas:
            counts = self.supporters[candidate]
            del counts[new]
            counts[klass] = counts.get(klass, 0) + weight

    # -- the whole count at one raise --------------------------------------------------------

    def count(self, t: int) -> int | None:
        """Bring the count to raise t; returns the next raise at which it may differ."""
        keep = 0
        while keep < len(self.rounds) and (
            self.rounds[keep].until is None or self.rounds[keep].until > t
        ):
            keep += 1
        while len(self.rounds) > keep:
            self._undo(self.rounds.pop())
        if not self.rounds or self.rounds[-1].chosen is not None:
            while True:
                round_ = self._step(t)
                self.rounds.append(round_)
                if round_.chosen is None:
                    break
        limits = [r.until for r in self.rounds if r.until is not None]
        return min(limits) if limits else None

    def shares_at(self, t: int) -> dict[str, Fraction]:
        return {
            self.names[c]: Fraction(int(v.numerator), int(v.denominator))
            for c, alpha in self.shares.items()
            for v in (_value(alpha, t),)
        }

    def outcome(self) -> list[str]:
        return [self.names[c] for c in self.funded]


def _spent(election: Election, funded: list[str]) -> Money:
    return sum(election.costs[p] for p in funded)


def count(election: Election) -> Outcome:
    if not election.ballots:
        return Outcome(rule=NAME, funded=(), cost=0, budget=election.budget)
    state = _Count(election)
    candidates = state.names
    budget = election.budget
    previous: list[str] = []
    previous_shares: dict[str, Fraction] = {}
    t = 0
    while True:
        next_change = state.count(t)
        funded = state.outcome()
        spent = _spent(election, funded)
        if spent > budget:
            return _outcome(election, previous, previous_shares)
        chosen = set(funded)
        if all(p in chosen or spent + election.costs[p] > budget for p in candidates):
            return _outcome(election, funded, state.shares_at(t))
        if next_change is None:
            # Nothing can change any more although the outcome is neither over budget nor
            # exhaustive: every further raise gives the same outcome, so pabutools would
            # never stop. Report it rather than loop forever.
            raise RuntimeError("equal shares: Add1 completion does not end")  # pragma: no cover
        # Raises before next_change give this very outcome: the last of them is `previous`.
        previous, previous_shares = funded, state.shares_at(next_change - 1)
        t = next_change


def _outcome(election: Election, funded: list[str], shares: dict[str, Fraction]) -> Outcome:
    return Outcome(
        rule=NAME,
        funded=tuple(funded),
        cost=_spent(election, funded),
        budget=election.budget,
        shares=shares,
    )
