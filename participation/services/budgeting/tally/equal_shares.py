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
- arithmetic is exact: rationals throughout (gmpy2's `mpq`, the same numbers as
  `fractions.Fraction`, computed in C; results are handed out as `Fraction`), never floats.

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
3. Once a round goes stale at the next raise, every round after it is counted again then
   anyway. On city-size elections one usually does, early in the count (a supporter who had
   to pay all they had for it has enough at the next raise to pay as much as the others).
   So the rounds after it are counted for the values at this raise only: no formulas, no
   comparisons that look ahead, no log; a checkpoint taken when they start is put back in
   one go before the next raise is counted. On Warszawa-Ursynow this makes a count about
   half as long.
4. A class is split when a project some of its voters support is funded, and the split is
   remembered by the set of splits the class came from (in any order), so later raises find
   it worked out. A price needs no sorting: alpha grows from the project's lower bound as
   supporters who cannot pay it are found.

5. On city-size elections nearly every raise still needs most rounds counted again (a poor
   supporter of an early round becomes rich at almost every raise), so the raises are
   independent pieces of work: a count that takes longer than PARALLEL_AFTER seconds goes on
   in one process per core (Linux), each counting its own residue of the raises, and `_Add1`
   judges their counts in whatever order they arrive. The outcome is the one of a single
   process; two cores make such a count about twice as fast.

The tests compare the outcome with pabutools on real elections and on random small ones with
ties (tests/test_budgeting_tally.py), with the plain transcription in `reference.py`, and that of
several processes with that of one.
"""

from __future__ import annotations

import gc
import multiprocessing
import multiprocessing.connection
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from copy import copy
from dataclasses import dataclass, field
from fractions import Fraction
from multiprocessing.connection import Connection

from gmpy2 import mpq as Q

from participation.services.budgeting.tally.election import Election, Money, Outcome

NAME = "equal_shares"

ZERO = Q(0)
ONE = Q(1)
# An affine amount a + v*t of the raise t.
Affine = tuple[Q, Q]
EXHAUSTED: Affine = (ZERO, ZERO)
# At most this many remembered splits (a few hundred bytes each).
SPLIT_CACHE_SIZE = 50_000
# A count that takes longer than this (seconds) goes on in several processes, at most so many.
PARALLEL_AFTER = 0.5
MAX_PROCESSES = 8
# What rounds counted for the values only change, besides the supporters' counts: copied
# when they start, put back when they are taken back (values are worked out again).
_CHECKPOINTED = (
    "sizes",
    "paths",
    "parent_paths",
    "budgets",
    "class_of",
    "alive",
    "funded",
    "shares",
    "bounds",
)


def _value(amount: Affine, t: int) -> Q:
    return amount[0] + amount[1] * t


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
        if self.until == self.t + 1:
            return  # as soon as can be already
        until = self.until_of(left, right, difference, or_equal)
        if until is not None:
            self.limit(until)

    def until_of(
        self, left: Affine, right: Affine, difference: Q, or_equal: bool = False
    ) -> int | None:
        """The first raise at which `keep` could fail, None for never."""
        slope = left[1] - right[1]
        if difference == 0:
            if slope < 0 or (slope > 0 and not or_equal):
                return self.t + 1
            return None
        if slope == 0 or (slope > 0) == (difference > 0):
            return None  # moving apart
        crossing = self.t - difference / slope  # > t
        floor = int(crossing.numerator // crossing.denominator)
        if or_equal:
            return floor + 1  # equality at the crossing is still fine
        return floor + 1 if floor < crossing else floor  # ceil


class _Price:
    """A priced candidate: `price` = alpha / cost (None: unaffordable), `value` = alpha at
    the raise (or available - cost when unaffordable), `alpha` affine (or what the
    supporters have, when unaffordable), `poor` the supporters who cannot pay alpha."""

    __slots__ = ("alpha", "poor", "price", "price_value", "value")

    def __init__(
        self, price: Affine | None, value: Q, alpha: Affine, poor: list, price_value: Q | None
    ) -> None:
        self.price = price
        self.value = value
        self.alpha = alpha
        self.poor = poor
        self.price_value = price_value  # the price at the raise


@dataclass
class _Round:
    chosen: int | None  # candidate index, None: the count ended
    until: int | None  # recount from the first raise >= until
    alpha: Affine | None = None
    # False: counted for the values at its raise only (see `_Count.exact`), to be taken back
    # before any other raise is counted.
    exact: bool = True
    log: list = field(default_factory=list)  # the changes, to undo and redo them
    # The classes split, in order: (class, groups, deltas, count, chosen), after `log`.
    splits: list[tuple] = field(default_factory=list)
    # What the supporters of the chosen project paid: (class, budget before, budget after),
    # apart from `log` as they are the most frequent change by far and come after the others.
    payments: list = field(default_factory=list)
    removed: list[int] = field(default_factory=list)  # out of reach
    # For each project out of reach, the first raise at which it may not be (None: never).
    out_of_reach_until: dict[int, int | None] = field(default_factory=dict)
    exhausted: list[int] = field(default_factory=list)  # classes that paid all they had

    def stale_at(self, t: int) -> bool:
        return self.until is not None and self.until <= t

    def same_change(self, other: _Round) -> bool:
        """From the same state, the same state after: the same project funded with the same
        payment, the same classes split (hence numbered alike), left without money or out of
        reach."""
        return (
            self.chosen == other.chosen
            and self.alpha == other.alpha
            and sorted(self.removed) == sorted(other.removed)
            and sorted(self.exhausted) == sorted(other.exhausted)
            and self.split_classes() == other.split_classes()
        )

    def split_classes(self) -> list[int]:
        """The classes split, in order."""
        return [entry[0] for entry in self.splits]


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
        # The class of every group of identical ballots, and the groups behind each project.
        self.class_of: list[int] = [0] * len(self.ballots)
        self.groups_of: list[list[int]] = [[] for _ in self.names]
        for group, ballot in enumerate(self.ballots):
            for candidate in ballot:
                self.groups_of[candidate].append(group)
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
        # Budgets of classes at the raise being counted (None: exhausted), kept with `budgets`.
        self.values: list[Q | None] = [_value(self.start, 0)]
        self.values_at = 0
        # The lower bounds at the raise being counted, kept with `bounds`.
        self.bound_values: list[Q] = [_value(bound, 0) for bound in self.bounds]
        # How each class came about: one bit per funded project that split it, for its
        # supporters or for the others. The same bits mean the same voters, whatever order
        # the projects were funded in, so the split cache by them serves every raise.
        self.paths: list[int] = [0]
        self.parent_paths: list[int] = []
        self.split_cache: dict[tuple[int, int], tuple[list[int], tuple, frozenset[int]]] = {}
        # Whether the rounds counted now work out how long they stay valid (the formulas of
        # what everyone pays and has left), or only the values at the raise being counted:
        # once a round goes stale at the next raise, every round after it is counted again
        # then anyway.
        self.exact = True
        # The state before the first round counted for the values only, to put back in one go.
        self.checkpoint: tuple | None = None

    def _move_to(self, t: int) -> None:
        """Evaluate every class's budget, and every lower bound, at raise t."""
        self.values_at = t
        self.bound_values = [bound[0] + bound[1] * t for bound in self.bounds]
        self.values = [
            None if budget is EXHAUSTED else budget[0] + budget[1] * t for budget in self.budgets
        ]

    def _set_bound_formula(self, candidate: int, bound: Affine) -> None:
        self.bounds[candidate] = bound
        self.bound_values[candidate] = _value(bound, self.values_at)

    # -- one round -------------------------------------------------------------------------

    def _price(self, candidate: int, t: int) -> _Price:
        """The price (alpha / cost) of the candidate at raise t; its `price` is None when
        the supporters cannot pay for it.

        Alpha starts at the project's lower bound; supporters with less than that are poor
        (they pay all they have), alpha is worked out again with the others paying equally,
        and so on until nobody new is poor. Alpha only grows on the way, and no sorting is
        needed.
        """
        cost = self.costs[candidate]
        values = self.values
        # The supporters who have money left, with what they have.
        able = [
            (value, count, klass)
            for klass, count in self.supporters[candidate].items()
            if (value := values[klass]) is not None
        ]
        if not able:  # every supporter has paid all they had
            return _Price(None, -cost, EXHAUSTED, [], None)
        remaining = sum([entry[1] for entry in able])
        alpha = cost / remaining
        floor = self.bound_values[candidate] * cost
        if floor > alpha:
            alpha = floor
        budgets, exact = self.budgets, self.exact
        paid = paid_v = ZERO  # what the poor pay at t, and its slope in t (if exact)
        poor: list = [entry for entry in able if entry[0] < alpha]
        newly = poor
        if poor:
            able = [entry for entry in able if entry[0] >= alpha]
        while newly:
            paid += sum([value if count == 1 else value * count for value, count, _ in newly], ZERO)
            if exact:
                paid_v += sum([budgets[klass][1] * count for _, count, klass in newly], ZERO)
            remaining -= sum([count for _, count, _ in newly])
            if not remaining:
                return _Price(None, paid - cost, (paid - paid_v * t, paid_v), [], None)
            alpha = (cost - paid) / remaining
            newly = [entry for entry in able if entry[0] < alpha]
            if newly:
                able = [entry for entry in able if entry[0] >= alpha]
            poor += newly
        if not poor:  # alpha may still be the lower bound
            alpha = cost / remaining
        price_value = alpha / cost
        if not paid_v:  # the same at every raise (or only the value at t is wanted)
            return _Price((price_value, ZERO), alpha, (alpha, ZERO), poor, price_value)
        alpha_formula: Affine = ((cost - paid + paid_v * t) / remaining, -paid_v / remaining)
        price = (alpha_formula[0] / cost, alpha_formula[1] / cost)
        return _Price(price, alpha, alpha_formula, poor, price_value)

    def _step(self, t: int, before: _Round | None = None) -> _Round:
        """One round at raise t, with the comparisons its outcome rests on.

        `before` is this round as counted at an earlier raise from the very same state: the
        projects it found out of reach, and still are at t, need no pricing.

        Prices only fall as the raise grows (supporters get richer), and a price computed with
        a supporter counted as poor who has become rich is too low, never too high. So the
        price formulas of the projects that were not chosen stay lower bounds at larger raises:
        only the chosen project's poor supporters, and the comparisons of the other projects'
        formulas with the chosen price, limit how long this round stays valid.
        """
        round_ = _Round(chosen=None, until=None, exact=self.exact)
        horizon = _Horizon(t)
        if not self.exact:
            horizon.limit(t + 1)
            before = None
        if before is not None:
            alive = self.alive
            for candidate, until in before.out_of_reach_until.items():
                if candidate in alive and (until is None or until > t):
                    self._remove(candidate, round_, until)
                    if until is not None:
                        horizon.limit(until)
        best: _Price | None = None
        tied: list[int] = []
        priced: list[tuple[int, _Price]] = []
        bound_values = self.bound_values
        order = sorted(self.alive, key=bound_values.__getitem__)
        unpriced: list[int] = []
        for position, candidate in enumerate(order):
            if best is not None and bound_values[candidate] > best.price_value:
                unpriced = order[position:]  # the best price only falls: all dearer
                break
            price = self._price(candidate, t)
            if price.price is None:  # out of reach: available < cost
                self._out_of_reach(candidate, price, horizon, round_)
                continue
            self._set_bound(candidate, price, t, round_)
            priced.append((candidate, price))
            if best is None or price.price_value < best.price_value:
                best, tied = price, [candidate]
            elif price.price_value == best.price_value:
                tied.append(candidate)
        if best is None:
            round_.until = horizon.until
            return round_
        chosen = min(tied, key=lambda c: self.names[c])
        # Tied projects have the same price (alpha / cost), not the same alpha.
        best = next(price for candidate, price in priced if candidate == chosen)
        self._keep_choice(t, horizon, round_, chosen, best, priced, unpriced)
        self._fund(chosen, best.alpha, t, round_)
        round_.until = horizon.until
        return round_

    def _keep_choice(
        self,
        t: int,
        horizon: _Horizon,
        round_: _Round,
        chosen: int,
        best: _Price,
        priced: list[tuple[int, _Price]],
        unpriced: list[int],
    ) -> None:
        """Limit the horizon by every comparison the choice of `chosen` rests on, until it is
        the next raise (the soonest a round can go stale): then nothing else needs checking."""
        next_raise = t + 1
        if horizon.until == next_raise:
            return
        # The chosen project's price is exact only while its poor supporters stay poor. One of
        # them usually becomes rich at the very next raise.
        for amount, _, klass in best.poor:
            horizon.keep(self.budgets[klass], best.alpha, amount - best.value)
            if horizon.until == next_raise:
                return
        name = self.names[chosen]
        bound_values = self.bound_values
        for candidate, price in priced:
            if candidate != chosen:
                horizon.keep(
                    price.price,
                    best.price,
                    price.price_value - best.price_value,
                    or_equal=self.names[candidate] > name,
                )
        best_slope = best.price[1]
        bounds = self.bounds
        # Above the best price and not falling faster, a bound stays above it.
        falling = [c for c in unpriced if bounds[c][1] < best_slope]
        for candidate in falling:
            if horizon.until == next_raise:
                return
            bound = bounds[candidate]
            or_equal = self.names[candidate] > name
            difference = bound_values[candidate] - best.price_value
            until = horizon.until_of(bound, best.price, difference, or_equal)
            if until is not None and until <= next_raise:
                # An old lower bound about to reach the best price: price the project now
                # (at least as high), rather than recount from here at the next raise.
                price = self._price(candidate, t)
                if price.price is None:
                    self._out_of_reach(candidate, price, horizon, round_)
                    continue
                self._set_bound(candidate, price, t, round_)
                horizon.keep(
                    price.price, best.price, price.price_value - best.price_value, or_equal
                )
            elif until is not None:
                horizon.limit(until)

    # -- changes of state, each logged so that a round can be undone and done again ----------

    def _out_of_reach(
        self, candidate: int, price: _Price, horizon: _Horizon, round_: _Round
    ) -> None:
        """Take out a project its supporters cannot pay for, until they may."""
        cost = self.costs[candidate]
        if self.exact:
            until = horizon.until_of(price.alpha, (cost, ZERO), price.value)
        else:  # counted again at the next raise anyway
            until = horizon.t + 1
        if until is not None:
            horizon.limit(until)
        self._remove(candidate, round_, until)

    def _remove(self, candidate: int, round_: _Round, until: int | None) -> None:
        self.alive.discard(candidate)
        round_.log.append(("remove", candidate))
        round_.removed.append(candidate)
        round_.out_of_reach_until[candidate] = until

    def _set_bound(self, candidate: int, price: _Price, t: int, round_: _Round) -> None:
        round_.log.append(("bound", candidate, self.bounds[candidate], price.price))
        self.bounds[candidate] = price.price
        self.bound_values[candidate] = price.price_value

    def _fund(self, chosen: int, alpha: Affine, t: int, round_: _Round) -> None:
        round_.chosen, round_.alpha = chosen, alpha
        alpha_value = _value(alpha, t)
        self.alive.discard(chosen)
        self.funded.append(chosen)
        self.shares[chosen] = alpha
        round_.log.append(("fund", chosen, alpha))
        budgets, values, payments = self.budgets, self.values, round_.payments
        alpha_a, alpha_v = alpha
        paying = self._split_supporters(chosen, round_)
        if not self.exact:
            # Only the values at t: the formulas of those who can still pay stay as they were
            # (the checkpoint is put back before they are used again); those left without
            # money are marked so.
            for klass in paying:
                before = values[klass]
                if before is None:
                    continue
                if before < alpha_value:
                    budgets[klass] = EXHAUSTED
                    values[klass] = None
                    round_.exhausted.append(klass)
                else:
                    values[klass] = before - alpha_value
            return
        for klass in paying:
            budget = budgets[klass]
            if budget is EXHAUSTED:
                continue
            before = values[klass]
            if before < alpha_value:
                after, after_value = EXHAUSTED, None
                round_.exhausted.append(klass)
            else:
                after = (budget[0] - alpha_a, budget[1] - alpha_v)
                after_value = before - alpha_value
            payments.append((klass, budget, after))
            budgets[klass] = after
            values[klass] = after_value

    def _split_supporters(self, chosen: int, round_: _Round) -> list[int]:
        """Split every class that can still pay into the supporters of `chosen` and the
        others; return the classes of its supporters.

        A class's members follow from how it came about (which funded projects its voters
        supported or not, in any order), so a split is worked out once per class and project
        and found again when a later raise funds the same project from the same class, also
        after projects with different supporters swapped places in the order.
        """
        budgets, alive, paths, sizes = self.budgets, self.alive, self.paths, self.sizes
        cache = self.split_cache
        # Classes of supporters who can still pay: all of them supporters, or mixed.
        mixed = [
            (klass, count)
            for klass, count in self.supporters[chosen].items()
            if budgets[klass] is not EXHAUSTED  # these voters never pay again
        ]
        paying = [klass for klass, count in mixed if count == sizes[klass]]
        # Split in the order of the classes' numbers, not in the order of the dictionary
        # (which undoing shuffles), so that counting a round again numbers the new classes
        # as before and the rounds after it can be done again as they were logged.
        mixed = sorted((klass, count) for klass, count in mixed if count != sizes[klass])
        splits = {klass: cache.get((paths[klass], chosen)) for klass, _ in mixed}
        unknown = {klass for klass, split in splits.items() if split is None}
        if unknown:
            for klass, groups in self._buckets(chosen, unknown).items():
                splits[klass] = self._work_out_split(groups)
                self._remember_split((paths[klass], chosen), splits[klass])
        for klass, count in mixed:
            groups, all_deltas, supported = splits[klass]
            if alive.isdisjoint(supported):
                # After paying, these voters support nothing still in the running: what they
                # have left never matters again, so they need no class of their own.
                continue
            # Only projects still in the running need their supporters counted; the others'
            # counts stay as they were when they left, which undoing needs.
            deltas = [delta for delta in all_deltas if delta[0] in alive]
            round_.splits.append((klass, groups, deltas, count, chosen))
        return paying + self._split(round_.splits)

    def _remember_split(self, key: tuple[int, int], split: tuple) -> None:
        """Keep the split for later raises, in bounded memory: a full cache starts afresh."""
        if len(self.split_cache) >= SPLIT_CACHE_SIZE:
            self.split_cache.clear()
        self.split_cache[key] = split

    def _buckets(self, chosen: int, classes: set[int]) -> dict[int, list[int]]:
        """The supporters of `chosen` in these classes, by class."""
        class_of = self.class_of
        buckets: dict[int, list[int]] = {klass: [] for klass in classes}
        for klass, group in [
            (klass, group)
            for group in self.groups_of[chosen]
            if (klass := class_of[group]) in classes
        ]:
            buckets[klass].append(group)
        return buckets

    def _work_out_split(self, groups: list[int]) -> tuple[list[int], tuple, frozenset[int]]:
        """The groups that split off, what they add to each project's supporters, and the
        projects they support."""
        ballots, weights = self.ballots, self.weights
        deltas: Counter[int] = Counter()
        for group in groups:
            weight = weights[group]
            for candidate in ballots[group]:
                deltas[candidate] += weight
        return groups, tuple(deltas.items()), frozenset(deltas)

    def _class_lists(self) -> tuple[list, list, list, list, list, list]:
        """What is kept by class (and for each group, its class), for the loops over splits."""
        return self.sizes, self.paths, self.parent_paths, self.budgets, self.values, self.class_of

    def _split(self, splits: list[tuple]) -> list[int]:
        """Split off each (class, groups, deltas, count, chosen): the groups that support
        `chosen` form a new class; return the new classes."""
        sizes, paths, parent_paths, budgets, values, class_of = self._class_lists()
        supporters = self.supporters
        new = len(sizes)
        for klass, groups, deltas, count, chosen in splits:
            for group in groups:
                class_of[group] = new
            # The bits of the class's path: one for the others, one for the supporters.
            parent = paths[klass]
            paths[klass] = parent | (1 << 2 * chosen)
            paths.append(parent | (2 << 2 * chosen))
            parent_paths.append(parent)
            sizes[klass] -= count
            sizes.append(count)
            budgets.append(budgets[klass])
            values.append(values[klass])
            for candidate, weight in deltas:
                counts = supporters[candidate]
                left = counts[klass] - weight
                if left:
                    counts[klass] = left
                else:
                    del counts[klass]
                counts[new] = weight
            new += 1
        return list(range(new - len(splits), new))

    def _merge(self, splits: list[tuple]) -> None:
        """Undo `_split` of these splits, the last first."""
        sizes, paths, parent_paths, budgets, values, class_of = self._class_lists()
        supporters = self.supporters
        new = len(sizes)
        for klass, groups, deltas, _, _ in reversed(splits):
            new -= 1
            for group in groups:
                class_of[group] = klass
            paths.pop()
            paths[klass] = parent_paths.pop()
            sizes[klass] += sizes.pop()
            budgets.pop()
            values.pop()
            for candidate, weight in deltas:
                counts = supporters[candidate]
                del counts[new]
                counts[klass] = counts.get(klass, 0) + weight

    def _undo(self, round_: _Round) -> None:
        """Undo the round's changes of formulas; the values at the raise are left for
        `_move_to` to work out once every stale round is undone."""
        budgets = self.budgets
        for klass, before, _ in round_.payments:
            budgets[klass] = before
        self._merge(round_.splits)
        for entry in reversed(round_.log):
            kind = entry[0]
            if kind == "remove":
                self.alive.add(entry[1])
            elif kind == "bound":
                self.bounds[entry[1]] = entry[2]
            else:  # fund
                self.alive.add(entry[1])
                self.funded.pop()
                del self.shares[entry[1]]

    def _redo(self, round_: _Round) -> None:
        for entry in round_.log:
            kind = entry[0]
            if kind == "remove":
                self.alive.discard(entry[1])
            elif kind == "bound":
                self._set_bound_formula(entry[1], entry[3])
            else:  # fund
                self.alive.discard(entry[1])
                self.funded.append(entry[1])
                self.shares[entry[1]] = entry[2]
        self._split(round_.splits)
        budgets, values, t = self.budgets, self.values, self.values_at
        for klass, _, after in round_.payments:
            budgets[klass] = after
            values[klass] = None if after is EXHAUSTED else after[0] + after[1] * t

    # -- the whole count at one raise --------------------------------------------------------

    def _take_back(self, first: int, t: int) -> list[_Round]:
        """Undo the rounds from `first` on (and any counted for the values at their raise
        only), to count again at raise t; returns them."""
        rounds = self.rounds
        first = next((i for i, r in enumerate(rounds[:first]) if not r.exact), first)
        stale = rounds[first:]
        if self.checkpoint is not None:  # the rounds counted for the values only, at once
            self._restore_checkpoint()
        for round_ in reversed(stale):
            if round_.exact:
                self._undo(round_)
        del rounds[first:]
        self._move_to(t)
        self.exact = True
        if any(round_.until == t + 1 for round_ in rounds):
            self._count_values_only()
        return stale

    def _count_values_only(self) -> None:
        """Count the rounds from here on for the values at this raise only. They are not
        logged: what they change is kept as it is now, to be put back in one go."""
        self.exact = False
        supporters = self.supporters
        # Only the supporters of projects still in the running change.
        saved = {candidate: supporters[candidate] for candidate in self.alive}
        for candidate, counts in saved.items():
            supporters[candidate] = counts.copy()
        self.checkpoint = (saved, {name: copy(getattr(self, name)) for name in _CHECKPOINTED})

    def _restore_checkpoint(self) -> None:
        assert self.checkpoint is not None
        saved, kept = self.checkpoint
        supporters = self.supporters
        for candidate, counts in saved.items():
            supporters[candidate] = counts
        for name, value in kept.items():
            setattr(self, name, value)
        self.values = [None] * len(self.budgets)  # worked out again by `_move_to`
        self.checkpoint = None

    def count(self, t: int) -> int | None:
        """Bring the count to raise t (never less than the last); returns the next raise at
        which it may differ.

        Rounds still certain at t are kept. From the first that is not, rounds are counted
        again; as long as a recounted round changes the state exactly as before (same project,
        same payment, same supporters left without money, same projects out of reach), the
        old rounds after it are done again without counting, while they are certain.
        """
        rounds = self.rounds
        first = 0
        while first < len(rounds) and not rounds[first].stale_at(t):
            first += 1
        stale = self._take_back(first, t)
        index = 0  # in `stale`, while the recount follows it
        while not rounds or rounds[-1].chosen is not None:
            # Old rounds are done again from their logs, or guide the recount, only while
            # both they and it work out formulas.
            old = stale[index] if index < len(stale) else None
            if old is not None and not (old.exact and self.exact):
                old = None
            if old is not None and index > 0 and not old.stale_at(t):
                self._redo(old)
                rounds.append(old)
                index += 1
            else:
                new = self._step(t, old)
                rounds.append(new)
                if old is not None and new.same_change(old):
                    index += 1
                else:
                    stale = []
            if self.exact and rounds[-1].until == t + 1:
                self._count_values_only()
        limits = [r.until for r in rounds if r.until is not None]
        return min(limits) if limits else None

    def outcome(self) -> list[str]:
        return [self.names[c] for c in self.funded]


def _spent(election: Election, funded: tuple[str, ...] | list[str]) -> Money:
    return sum(election.costs[p] for p in funded)


@dataclass(frozen=True)
class _Evaluation:
    """The count at raise `t`: the same at every raise up to `until` (None: at every one)."""

    t: int
    until: int | None
    funded: tuple[str, ...]
    alphas: dict[str, Affine]  # what each supporter pays, as a + v*t

    def covers(self, t: int) -> bool:
        return self.t <= t and (self.until is None or t < self.until)

    def shares_at(self, t: int) -> dict[str, Fraction]:
        return {
            name: Fraction(int(v.numerator), int(v.denominator))
            for name, alpha in self.alphas.items()
            for v in (_value(alpha, t),)
        }

    def next_raise(self, step: int) -> int | None:
        """The first raise after this one, in steps of `step`, at which the count may differ."""
        if self.until is None:
            return None
        behind = max(self.until - self.t - 1, 0)
        return self.t + step * (behind // step + 1)


def _evaluate(state: _Count, t: int) -> _Evaluation:
    until = state.count(t)
    alphas = {state.names[c]: alpha for c, alpha in state.shares.items()}
    return _Evaluation(t, until, tuple(state.outcome()), alphas)


class _Add1:
    """Add1 completion over counts at single raises, which may come in any order (from several
    processes): the outcome before the first raise that is over budget, or at the first that
    is exhaustive. Every raise from 0 on is judged, by the count at it or by an earlier count
    that is certain to be the same at it."""

    def __init__(self, election: Election, candidates: list[str]) -> None:
        self.election, self.candidates = election, candidates
        self.frontier = 0  # the first raise not judged yet
        # The count at the last raise judged, and that raise (shares are worked out only for
        # the outcome); at first, nothing funded.
        self.previous: tuple[_Evaluation, int] = (_Evaluation(0, None, (), {}), 0)
        self.waiting: list[_Evaluation] = []
        # The first raise known to end the completion: no count beyond it is needed.
        self.end: int | None = None

    def over_budget(self, evaluation: _Evaluation) -> bool:
        return _spent(self.election, evaluation.funded) > self.election.budget

    def exhaustive(self, evaluation: _Evaluation) -> bool:
        """No project left out would still fit."""
        election, chosen = self.election, set(evaluation.funded)
        spent = _spent(election, evaluation.funded)
        return all(
            p in chosen or spent + election.costs[p] > election.budget for p in self.candidates
        )

    def ends(self, evaluation: _Evaluation) -> bool:
        return self.over_budget(evaluation) or self.exhaustive(evaluation)

    def add(self, evaluation: _Evaluation) -> Outcome | None:
        """Take one more count; the outcome once it is decided."""
        if self.ends(evaluation) and (self.end is None or evaluation.t < self.end):
            self.end = evaluation.t
        self.waiting.append(evaluation)
        while True:
            frontier = self.frontier
            evaluation = next((e for e in self.waiting if e.covers(frontier)), None)
            if evaluation is None:
                return None
            election = self.election
            if self.over_budget(evaluation):
                previous, at = self.previous
                return _outcome(election, previous.funded, previous.shares_at(at))
            if self.exhaustive(evaluation):
                return _outcome(election, evaluation.funded, evaluation.shares_at(frontier))
            if evaluation.until is None:
                # Nothing can change any more although the outcome is neither over budget nor
                # exhaustive: every further raise gives the same outcome, so pabutools would
                # never stop. Report it rather than loop forever.
                raise RuntimeError("equal shares: Add1 completion does not end")  # pragma: no cover
            # Raises before `until` give this very outcome: the last of them is `previous`.
            self.previous = (evaluation, evaluation.until - 1)
            self.frontier = evaluation.until
            self.waiting = [e for e in self.waiting if e.until is None or e.until > self.frontier]


def count(election: Election, processes: int | None = None) -> Outcome:
    """The outcome of equal shares with Add1 completion.

    A count that takes longer than PARALLEL_AFTER seconds goes on in `processes` processes
    (default: one per available core, on Linux), which count different raises: one more
    core makes a long count about that much shorter, with the very same outcome.
    """
    if not election.ballots:
        return Outcome(rule=NAME, funded=(), cost=0, budget=election.budget)
    if processes is None:
        processes = _available_cores()
    with _without_cycle_collection():
        return _count(election, processes)


@contextmanager
def _without_cycle_collection():
    """Python's collector of reference cycles off while counting. A count makes millions of
    short-lived numbers and tuples, and no cycles; every so often the collector would look
    at every object in the process (the web application's included) for nothing: 16% of
    the time of a count on Ursynow. Whatever cycles other threads make meanwhile are
    collected once it is back on. The helper processes inherit it off."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _count(election: Election, processes: int) -> Outcome:
    state = _Count(election)
    return _count_from(state, _Add1(election, state.names), processes)


def _available_cores() -> int:
    """Processes worth starting: one per core this process may use, on Linux (where a
    process starts as a copy of this one, counting state included)."""
    if sys.platform != "linux" or multiprocessing.current_process().daemon:
        return 1  # pragma: no cover (a daemonic process may not start processes)
    return min(len(os.sched_getaffinity(0)), MAX_PROCESSES)


def _count_in_parallel(state: _Count, add1: _Add1, start: int, processes: int) -> Outcome:
    """Go on from raise `start` in `processes` processes: this one counts the raises start,
    start + processes, ... and each helper its own residue, every one skipping the raises its
    own counts say cannot differ. Every raise is judged: by the process whose residue it is,
    unless an earlier count of that process is certain to be the same at it. The helpers
    start as copies of this process, with the state counted so far."""
    context = multiprocessing.get_context("fork")
    helpers = []
    for residue in range(1, processes):
        receiver, sender = context.Pipe(duplex=False)
        helper = context.Process(
            target=_count_residue,
            args=(state, add1, start + residue, processes, sender),
            daemon=True,
        )
        helper.start()
        sender.close()
        helpers.append((helper, receiver))
    receivers = [receiver for _, receiver in helpers]
    try:
        t: int | None = start
        while t is not None and (add1.end is None or t <= add1.end):
            evaluation = _evaluate(state, t)
            outcome = add1.add(evaluation) or _receive(receivers, add1, timeout=0)
            if outcome is not None:
                return outcome
            t = evaluation.next_raise(processes)
        while receivers:
            outcome = _receive(receivers, add1, timeout=None)
            if outcome is not None:
                return outcome
        # A helper ended without counting what it had to (it should not): count the rest here.
        return _count_from(_Count(add1.election), add1)
    finally:
        for helper, receiver in helpers:
            helper.kill()
            helper.join()
            receiver.close()


def _receive(receivers: list[Connection], add1: _Add1, timeout: float | None) -> Outcome | None:
    """Judge every count the helpers have sent (waiting up to `timeout` for one), so that none
    of them waits for this process to read; forget the helpers that have ended."""
    for receiver in multiprocessing.connection.wait(receivers, timeout):
        try:
            while True:
                outcome = add1.add(receiver.recv())
                if outcome is not None:
                    return outcome
                if not receiver.poll():
                    break
        except EOFError:  # that helper has sent all it had to
            receivers.remove(receiver)
    return None


def _count_residue(state: _Count, add1: _Add1, t: int, step: int, sender: Connection) -> None:
    """In a helper: count raises t, t + step, ... (skipping those that cannot differ) until
    one ends the completion, and send each count."""
    with sender:
        while t is not None:
            evaluation = _evaluate(state, t)
            sender.send(evaluation)
            if add1.ends(evaluation):
                return
            t = evaluation.next_raise(step)


def _count_from(state: _Count, add1: _Add1, processes: int = 1) -> Outcome:
    """Count every raise from the first not judged yet, in this process; after PARALLEL_AFTER
    seconds, in `processes` processes."""
    started = time.perf_counter()
    while True:
        # Judged in order, each count takes the frontier past it (or ends the completion).
        outcome = add1.add(_evaluate(state, add1.frontier))
        if outcome is not None:
            return outcome
        if processes > 1 and time.perf_counter() - started >= PARALLEL_AFTER:
            return _count_in_parallel(state, add1, add1.frontier, processes)


def _outcome(election: Election, funded: tuple[str, ...], shares: dict[str, Fraction]) -> Outcome:
    return Outcome(
        rule=NAME,
        funded=tuple(funded),
        cost=_spent(election, funded),
        budget=election.budget,
        shares=shares,
    )
