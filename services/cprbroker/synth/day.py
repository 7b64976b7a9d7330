"""One production day of changes: who was touched, their snapshot before the
first change, and the 099 events registered.

Every change kind calls :meth:`Day.touch` on a person *before* changing them,
so the day keeps the snapshot the previous file showed; a person created
today (a newborn, a new PNR) is registered with :meth:`Day.created` and has no
previous snapshot. A person is changed by at most one change kind per day
(:meth:`Day.free`), which keeps each person's story in a file simple.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from cprbroker.synth.households import clock
from cprbroker.synth.person import Dwelling, Person
from cprbroker.synth.population import Population
from cprbroker.synth.records import Record, person_records


def lives_here(person: Person) -> bool:
    """Active (status 01) with a Danish address."""
    return person.status == "01" and person.dwelling is not None


def parent_or_child(a: Person, b: Person) -> bool:
    """Whether one of ``a`` and ``b`` is registered as the other's parent (015)."""
    of_a = {ref.pnr for ref in (a.mother, a.father) if ref is not None}
    of_b = {ref.pnr for ref in (b.mother, b.father) if ref is not None}
    return b.pnr in of_a or a.pnr in of_b


def kin(a: Person, b: Person) -> bool:
    """Whether ``a`` and ``b`` are parent and child or (half) siblings by the
    PNRs in their 015 records: people who may not marry or have a child."""
    of_a = {ref.pnr for ref in (a.mother, a.father) if ref is not None and ref.pnr}
    of_b = {ref.pnr for ref in (b.mother, b.father) if ref is not None and ref.pnr}
    return parent_or_child(a, b) or bool(of_a & of_b)


def date_of(timestamp: str) -> dt.date:
    """The day of a ``yyyyMMddHHmm`` timestamp."""
    return dt.date(int(timestamp[:4]), int(timestamp[4:6]), int(timestamp[6:8]))


@dataclass(frozen=True, slots=True)
class Happening:
    """One 099 record to write: ``code`` happened to ``pnr`` at ``timestamp``."""

    pnr: str
    timestamp: str
    code: str
    mark: str = ""


class Day:
    """The changes of one delta file, between the previous production date
    and this one."""

    def __init__(
        self,
        rng: random.Random,
        population: Population,
        production_date: dt.date,
        covered: list[dt.date],
    ) -> None:
        self.rng = rng
        self.population = population
        self.production_date = production_date
        self.covered = covered
        """The calendar days the file's events happened on."""
        self.today = covered[-1].isoformat()
        """The last covered day (``yyyy-MM-dd``): ages are counted on it."""
        self.before: dict[str, list[Record] | None] = {}
        """Per touched PNR, in touch order: the records before today's change,
        or None for a person created today."""
        self.happenings: list[Happening] = []

    def free(self, person: Person) -> bool:
        """Whether ``person`` is still unchanged today."""
        return person.pnr not in self.before

    def touch(self, *people: Person) -> None:
        """Keep the current snapshot of each of ``people`` as their "before"
        (the first touch wins)."""
        for person in people:
            if person.pnr not in self.before:
                self.before[person.pnr] = person_records(person)

    def created(self, person: Person) -> None:
        """Register a person who did not exist before today."""
        self.before[person.pnr] = None

    def when(self) -> str:
        """A timestamp on one of the covered days, in office hours."""
        return clock(self.rng, self.rng.choice(self.covered))

    def event(self, person: Person, timestamp: str, code: str, mark: str = "") -> None:
        """Register a 099 event for ``person`` (who must have been touched)."""
        self.happenings.append(Happening(person.pnr, timestamp, code, mark))

    def relocate(self, person: Person, dwelling: Dwelling, at: str) -> None:
        """Move ``person`` to ``dwelling`` at ``at``, keeping 002's history:
        moving into a new municipality records the one left (FRAFLYKOMKOD)."""
        old = person.municipality
        self.population.move_in(person, dwelling)
        person.moved_in = at
        if dwelling.municipality != old:
            person.municipality_since = at
            person.previous_municipality = old or ""
            person.previous_municipality_left = at if old else ""

    def sample(self, accept: Callable[[Person], bool], attempts: int = 400) -> Person | None:
        """A random person who is still free today and whom ``accept`` takes."""
        before = self.before
        return self.population.sample(
            self.rng, lambda p: p.pnr not in before and accept(p), attempts
        )

    def is_adult(self, person: Person) -> bool:
        """18 or older on the last covered day."""
        return person.age_on(self.today) >= 18


__all__ = ["Day", "Happening", "date_of", "kin", "lives_here", "parent_or_child"]
