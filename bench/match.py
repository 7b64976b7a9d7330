"""Benchmark: matching events against every subscription.

Prints events/s of ``SubscriptionIndex.match`` beside a baseline measured in
the same run on the same subscriptions and events (the naive loop calling
``matches`` for every subscription), the ratio, and the time to build the
index incrementally (one ``put`` per subscription, one ``add_pnr`` per list
entry, as when materialising the compacted topics). Each rate is the median
of ``--runs`` runs in CPU time of this single-threaded process (one core);
both sides are checked to return the same subscriptions.

The mix is what a municipality-run broker sees: most subscriptions follow a
PNR value list of 10-1000 persons (mostly from one municipality, some also
restricted to a few event types), some follow 1-3 municipalities, some event
types or CPR change codes, some an age range, a few a road, a few catch all.
Events come from a synthetic population with birth dates, municipalities
weighted by their populations, and roads.

    python bench/match.py            # 10,000 subscriptions, 1,000,000 list PNRs, 5 runs
    python bench/match.py --small    # 500 subscriptions, 20,000 list PNRs, 1 run (tests)
"""

from __future__ import annotations

import argparse
import gc
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cprbroker.core.subscriptions import (
    AddressCriterion,
    AddressKey,
    AgeRange,
    Endpoint,
    EventFacts,
    Filter,
    Subscription,
    SubscriptionIndex,
    matches,
)
from cprbroker.synth.geography import MUNICIPALITIES

SECRET = "whsec_" + "Q" * 43 + "="
# (type, CPR change code, weight): roughly how often each event happens.
EVENT_MIX: tuple[tuple[str, str, int], ...] = (
    ("cpr.person.moved", "A01", 24),
    ("cpr.person.address_changed", "A01", 20),
    ("cpr.person.municipality_changed", "A01", 8),
    ("cpr.person.civil_status_changed", "A24", 8),
    ("cpr.person.name_changed", "A13", 6),
    ("cpr.person.died", "A21", 5),
    ("cpr.person.children_changed", "A51", 6),
    ("cpr.person.parents_changed", "A35", 2),
    ("cpr.person.custody_changed", "A51", 3),
    ("cpr.person.protection_changed", "A33", 4),
    ("cpr.person.church_membership_changed", "A34", 3),
    ("cpr.person.emigrated", "A06", 2),
    ("cpr.person.immigrated", "A04", 2),
    ("cpr.person.citizenship_changed", "A08", 2),
    ("cpr.person.changed", "A07", 5),
)
DERIVED_SHARE = 0.12  # events reaching a spouse, parent or child (ÆG, MO, FA, ...)
ROADS_PER_MUNICIPALITY = 400


@dataclass(frozen=True)
class Scale:
    population: int
    subscriptions: int
    list_pnrs: int
    events: int  # matched by the index per run
    baseline_events: int  # matched by the naive loop per run
    runs: int


FULL = Scale(1_000_000, 10_000, 1_000_000, 200_000, 100, 5)
SMALL = Scale(20_000, 500, 20_000, 5_000, 200, 1)


@dataclass
class Population:
    """Parallel columns, one row per synthetic person."""

    pnrs: list[str]
    births: list[date]
    homes: list[int]  # index into MUNICIPALITIES
    roads: list[str]
    by_home: list[list[int]]  # rows living in each municipality


def make_population(rng: random.Random, size: int) -> Population:
    """``size`` persons with distinct, well-formed synthetic CPR numbers."""
    weights = [m.population for m in MUNICIPALITIES]
    homes = rng.choices(range(len(MUNICIPALITIES)), weights, k=size)
    first, span = date(1920, 1, 1).toordinal(), 365 * 104
    days = [date.fromordinal(first + n) for n in range(span)]
    # 7th digit 0-3 for the 1900s, 4 for 2000-2036 (the century rule).
    prefixes = [(f"{d:%d%m%y}", "0123" if d.year < 2000 else "4") for d in days]
    issued = [0] * span
    pnrs, births = [], []
    for n in rng.choices(range(span), k=size):
        serial = issued[n]
        issued[n] += 1
        prefix, sevenths = prefixes[n]
        pnrs.append(f"{prefix}{sevenths[(serial // 1000) % len(sevenths)]}{serial % 1000:03d}")
        births.append(days[n])
    roads = [f"{rng.randrange(1, ROADS_PER_MUNICIPALITY) * 10:04d}" for _ in range(size)]
    by_home: list[list[int]] = [[] for _ in MUNICIPALITIES]
    for row, home in enumerate(homes):
        by_home[home].append(row)
    return Population(pnrs, births, homes, roads, by_home)


def list_sizes(rng: random.Random, count: int, total: int) -> list[int]:
    """``count`` list sizes in 10..1000, log-uniform in shape, summing to ``total``."""
    raw = [math.exp(rng.uniform(math.log(10), math.log(1000))) for _ in range(count)]
    factor = total / sum(raw)
    sizes = [min(1000, max(10, round(r * factor))) for r in raw]
    order = list(range(count))
    while (gap := total - sum(sizes)) != 0:
        rng.shuffle(order)
        for i in order:
            if gap == 0:
                break
            step = 1 if gap > 0 else -1
            if 10 <= sizes[i] + step <= 1000:
                sizes[i] += step
                gap -= step
    return sizes


def make_subscriptions(
    rng: random.Random, scale: Scale, people: Population
) -> tuple[list[Subscription], dict[str, set[str]]]:
    """The subscription mix and the PNR value lists, by subscription id."""
    codes = [m.code for m in MUNICIPALITIES]
    weights = [m.population for m in MUNICIPALITIES]
    types = sorted({t for t, _, _ in EVENT_MIX})
    changes = sorted({c for _, c, _ in EVENT_MIX})
    n = scale.subscriptions
    listed = n * 80 // 100
    counts = {"municipality": n // 10, "type": n * 54 // 1000, "age": n * 4 // 100}
    counts["address"] = max(1, n // 200)
    counts["catch_all"] = n - listed - sum(counts.values())
    filters: list[Filter] = []
    for _ in range(listed):
        few_types = frozenset(rng.sample(types, rng.randint(1, 4))) if rng.random() < 0.2 else None
        filters.append(Filter(pnr_list=True, event_types=few_types))
    for _ in range(counts["municipality"]):
        own = frozenset(rng.choices(codes, weights, k=rng.randint(1, 3)))
        picky = rng.random() < 0.3
        filters.append(
            Filter(
                municipalities=own,
                event_types=frozenset(rng.sample(types, 3)) if picky else None,
                include_derived=rng.random() < 0.8,
            )
        )
    for i in range(counts["type"]):
        if i % 3 == 0:
            filters.append(Filter(cpr_event_codes=frozenset(rng.sample(changes, 2))))
        else:
            filters.append(Filter(event_types=frozenset(rng.sample(types, rng.randint(1, 2)))))
    bands = [(None, 17), (18, 29), (60, None), (65, None), (80, None), (0, 5)]
    for _ in range(counts["age"]):
        low, high = rng.choice(bands)
        died = frozenset({"cpr.person.died"}) if rng.random() < 0.3 else None
        filters.append(Filter(age=AgeRange(low, high), event_types=died))
    for _ in range(counts["address"]):
        row = rng.randrange(scale.population)
        road = AddressCriterion(codes[people.homes[row]], people.roads[row])
        filters.append(Filter(addresses=(road,)))
    filters.extend(Filter() for _ in range(counts["catch_all"]))

    subscriptions = [
        Subscription(f"sub-{i:05d}", f"client-{i % 40}", "bench", endpoint(), f)
        for i, f in enumerate(filters)
    ]
    lists: dict[str, set[str]] = {}
    for subscription, size in zip(
        subscriptions, list_sizes(rng, listed, scale.list_pnrs), strict=False
    ):
        home = people.by_home[rng.choices(range(len(codes)), weights)[0]]
        members: set[str] = set()
        while len(members) < size:
            # Mostly the municipality's own citizens, some from anywhere.
            row = (
                rng.choice(home) if home and rng.random() < 0.9 else rng.randrange(scale.population)
            )
            members.add(people.pnrs[row])
        lists[subscription.id] = members
    return subscriptions, lists


def endpoint() -> Endpoint:
    return Endpoint("https://hooks.example.test/cpr", SECRET)


def make_events(rng: random.Random, count: int, people: Population) -> list[EventFacts]:
    """``count`` events for persons drawn from the population."""
    codes = [m.code for m in MUNICIPALITIES]
    weights = [m.population for m in MUNICIPALITIES]
    mix_weights = [w for _, _, w in EVENT_MIX]
    start = datetime(2024, 1, 2, 6, 0, tzinfo=UTC)
    events = []
    for kind, row in zip(
        rng.choices(EVENT_MIX, mix_weights, k=count),
        (rng.randrange(len(people.pnrs)) for _ in range(count)),
        strict=True,
    ):
        event_type, change_code, _ = kind
        home = codes[people.homes[row]]
        before: str | None = home
        after: str | None = home
        address_before: AddressKey | None = AddressKey(
            home, people.roads[row], str(rng.randint(1, 120))
        )
        address_after = address_before
        if event_type == "cpr.person.municipality_changed":
            after = rng.choices(codes, weights)[0]
        if event_type in ("cpr.person.moved", "cpr.person.municipality_changed") and after:
            address_after = AddressKey(after, f"{rng.randrange(1, 400) * 10:04d}", "7")
        elif event_type == "cpr.person.emigrated":
            after, address_after = None, None
        elif event_type == "cpr.person.immigrated":
            before, address_before = None, None
        derived = rng.random() < DERIVED_SHARE
        events.append(
            EventFacts(
                type=event_type,
                pnr=people.pnrs[row],
                cpr_event_code=change_code,
                derived_mark=rng.choice(("ÆG", "MO", "FA", "BØ")) if derived else None,
                occurred_at=start + timedelta(minutes=rng.randrange(60 * 24 * 300)),
                birth_date=people.births[row],
                municipality_before=before,
                municipality_after=after,
                address_before=address_before,
                address_after=address_after,
            )
        )
    return events


def build_index(
    subscriptions: Sequence[Subscription], lists: dict[str, set[str]]
) -> SubscriptionIndex:
    index = SubscriptionIndex()
    for subscription in subscriptions:
        index.put(subscription)
    for subscription_id, members in lists.items():
        for pnr in members:
            index.add_pnr(subscription_id, pnr)
    return index


def naive_match(
    subscriptions: Sequence[Subscription], lists: dict[str, set[str]], facts: EventFacts
) -> set[str]:
    """The baseline: every subscription's filter, one by one."""
    nothing: set[str] = set()
    return {s.id for s in subscriptions if matches(s.filter, facts, lists.get(s.id, nothing))}


def rate(events: Sequence[EventFacts], match: Callable[[EventFacts], set[str]], runs: int) -> float:
    """Median events/s over ``runs`` passes of ``match`` over ``events``, in
    CPU time of this single-threaded process: one core's rate, whatever else
    the machine is doing."""
    rates = []
    for _ in range(runs):
        gc.collect()
        began = time.process_time()
        for facts in events:
            match(facts)
        rates.append(len(events) / (time.process_time() - began))
    return statistics.median(rates)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="the quick mode the tests run")
    parser.add_argument("--runs", type=int, help="runs per figure (median reported)")
    parser.add_argument("--seed", default="bench-match")
    args = parser.parse_args(argv)
    scale = SMALL if args.small else FULL
    runs = args.runs or scale.runs
    rng = random.Random(args.seed)

    people = make_population(rng, scale.population)
    subscriptions, lists = make_subscriptions(rng, scale, people)
    events = make_events(rng, scale.events, people)
    gc.collect()
    began = time.process_time()
    index = build_index(subscriptions, lists)
    build_seconds = time.process_time() - began
    gc.freeze()  # the population and index are long-lived: keep the collector off them

    sample = events[: scale.baseline_events]
    found = [index.match(facts) for facts in sample]
    if found != [naive_match(subscriptions, lists, facts) for facts in sample]:
        print("index and naive loop disagree", file=sys.stderr)
        return 1
    per_event = statistics.mean(len(f) for f in itertools.chain(found, map(index.match, events)))

    baseline = rate(sample, lambda facts: naive_match(subscriptions, lists, facts), runs)
    compiled = rate(events, index.match, runs)
    gc.unfreeze()

    listed = sum(1 for s in subscriptions if s.filter.pnr_list)
    print(
        f"subscriptions: {len(subscriptions):,} ({listed:,} on PNR lists), "
        f"list PNRs: {sum(map(len, lists.values())):,}, population: {scale.population:,}"
    )
    print(
        f"events: {len(events):,} (baseline on {len(sample):,}), "
        f"runs: {runs} (median, CPU time of one core)"
    )
    print(f"matches per event: {per_event:.1f}")
    print(f"index build (put + add_pnr): {build_seconds:.2f} s CPU")
    print(f"baseline (naive loop over matches()): {baseline:,.0f} events/s")
    print(f"SubscriptionIndex.match: {compiled:,.0f} events/s")
    print(f"ratio index/baseline: {compiled / baseline:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
