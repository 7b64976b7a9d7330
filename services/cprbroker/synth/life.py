"""How much happens on a production day, and the day's output.

Each change kind has a rate per 1,000 persons per production day, chosen so
that about 0.2 % of the population is changed per day with moves as the bulk
(Danish orders of magnitude: some 900,000 moves, 60,000 births and 57,000
deaths a year in 5.9 million people, raised to what a register also records).
A Monday file covers the weekend too and is somewhat heavier.

Counts are carried as credit from day to day, so rare kinds happen at their
rate on average. Every kind also earns at least a third of an occurrence per
day, so that even a small population shows every kind within a few days.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from collections.abc import Callable
from dataclasses import dataclass

from cprbroker.synth import family as f
from cprbroker.synth import happenings as h
from cprbroker.synth.day import Day, Happening
from cprbroker.synth.population import Population
from cprbroker.synth.records import Record, event_record, person_records
from cprbroker.synth.truth import expected_events


@dataclass(frozen=True, slots=True)
class ChangeKind:
    """One kind of change: its name, rate and how it is applied to a day."""

    name: str
    per_thousand: float
    """Expected occurrences per 1,000 persons per weekday."""
    apply: Callable[[Day], bool]


KINDS: tuple[ChangeKind, ...] = (
    ChangeKind("move within municipality", 0.55, functools.partial(h.move, across=False)),
    ChangeKind("move to another municipality", 0.35, functools.partial(h.move, across=True)),
    ChangeKind("marriage", 0.03, f.marriage),
    ChangeKind("divorce", 0.015, f.divorce),
    ChangeKind("death of a married person", 0.02, functools.partial(f.death, married=True)),
    ChangeKind("death of an unmarried person", 0.03, functools.partial(f.death, married=False)),
    ChangeKind("birth", 0.05, f.birth),
    ChangeKind("paternity", 0.005, f.paternity),
    ChangeKind("name change", 0.05, h.name_change),
    ChangeKind("protection", 0.03, h.protection_set),
    ChangeKind("emigration", 0.03, h.emigration),
    ChangeKind("return from abroad", 0.02, h.immigration),
    ChangeKind("disappearance", 0.003, h.disappearance),
    ChangeKind("found again", 0.002, h.reappearance),
    ChangeKind("church membership", 0.04, h.church),
    ChangeKind("PNR change", 0.002, h.pnr_change),
)

_FLOOR = 1 / 3
_ATTEMPTS = 4


class Schedule:
    """Per change kind, the credit carried over between days."""

    def __init__(self, population_size: int) -> None:
        self.size = population_size
        # Staggered start, so that floor-driven kinds do not all fall on one day.
        self.credit = [i / len(KINDS) for i in range(len(KINDS))]

    def counts(self, weight: float) -> list[int]:
        """How many of each kind happen on a day of ``weight`` weekdays."""
        result = []
        for i, kind in enumerate(KINDS):
            self.credit[i] += max(kind.per_thousand * self.size / 1000 * weight, _FLOOR)
            count = int(self.credit[i])
            self.credit[i] -= count
            result.append(count)
        return result


@dataclass(frozen=True, slots=True)
class DayOutput:
    """What one delta file holds: per changed person (by PNR) their records
    with their 099 events last, and the ground-truth events."""

    production_date: dt.date
    persons: list[tuple[str, list[Record]]]
    truth: list[dict[str, str | None]]
    changes: dict[str, int]
    """How many of each change kind happened (by kind name, and "protection lapsed")."""


def live_day(
    rng: random.Random,
    population: Population,
    schedule: Schedule,
    production_date: dt.date,
    covered: list[dt.date],
) -> DayOutput:
    """Apply one production day of changes to ``population`` and describe
    the resulting delta file."""
    day = Day(rng, population, production_date, covered)
    changes = {"protection lapsed": h.protection_lapse(day)}
    weight = 1 + 0.3 * (len(covered) - 1)
    plan = [i for i, count in enumerate(schedule.counts(weight)) for _ in range(count)]
    # Interleaved so that kinds compete fairly for people still free today.
    rng.shuffle(plan)
    for i in plan:
        kind = KINDS[i]
        for _ in range(_ATTEMPTS):
            if kind.apply(day):
                changes[kind.name] = changes.get(kind.name, 0) + 1
                break
    by_person: dict[str, list[Happening]] = {}
    for happening in day.happenings:
        by_person.setdefault(happening.pnr, []).append(happening)
    persons: list[tuple[str, list[Record]]] = []
    truth: list[dict[str, str | None]] = []
    for pnr in sorted(day.before):
        own = by_person.get(pnr, [])
        after = person_records(population[pnr])
        events = [event_record(pnr, e.timestamp, e.code, e.mark) for e in own]
        persons.append((pnr, after + events))
        truth.extend(expected_events(pnr, day.before[pnr], after, own))
    return DayOutput(production_date, persons, truth, changes)


__all__ = ["KINDS", "ChangeKind", "DayOutput", "Schedule", "live_day"]
