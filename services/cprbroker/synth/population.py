"""The population: every person by PNR, in creation order, with the indexes
the daily changes need (who is emigrated, disappeared, protected)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from cprbroker.synth.person import Dwelling, Person
from cprbroker.synth.places import RoadCatalogue


def timestamp(day: dt.date, hour: int = 0, minute: int = 0) -> str:
    """``yyyyMMddHHmm`` for ``day`` at ``hour``:``minute``."""
    # %-formatting is twice as fast as an f-string with format specs here,
    # and this runs several times per person.
    return "%04d%02d%02d%02d%02d" % (day.year, day.month, day.day, hour, minute)  # noqa: UP031


class Population:
    """All persons ever created, including the dead and changed numbers."""

    def __init__(self) -> None:
        self.persons: dict[str, Person] = {}
        self.order: list[str] = []
        self.taken: set[str] = set()
        self.places = RoadCatalogue()
        self.emigrated: list[str] = []
        self.disappeared: list[str] = []
        self.protected: list[str] = []

    def __len__(self) -> int:
        return len(self.order)

    def add(self, person: Person) -> Person:
        """Register ``person`` (its PNR must already be in ``taken``)."""
        self.persons[person.pnr] = person
        self.order.append(person.pnr)
        return person

    def __getitem__(self, pnr: str) -> Person:
        return self.persons[pnr]

    def get(self, pnr: str) -> Person | None:
        """The person with ``pnr``, or None (also for a blank PNR)."""
        return self.persons.get(pnr) if pnr else None

    def sample(
        self,
        rng: random.Random,
        accept: Callable[[Person], bool],
        attempts: int = 400,
    ) -> Person | None:
        """A random person for whom ``accept`` holds, trying ``attempts``
        random draws; None if none was found."""
        order = self.order
        persons = self.persons
        for _ in range(attempts):
            person = persons[order[int(rng.random() * len(order))]]
            if accept(person):
                return person
        return None

    def move_in(self, person: Person, dwelling: Dwelling | None) -> None:
        """Register ``person`` at ``dwelling`` (None: no Danish address),
        leaving the old dwelling's residents."""
        old = person.dwelling
        if old is not None:
            old.residents.remove(person.pnr)
        person.dwelling = dwelling
        if dwelling is not None:
            dwelling.residents.append(person.pnr)

    def household(self, person: Person) -> list[Person]:
        """Everyone registered at ``person``'s dwelling (just the person if none)."""
        if person.dwelling is None:
            return [person]
        return [self.persons[pnr] for pnr in person.dwelling.residents]


__all__ = ["Population", "timestamp"]
