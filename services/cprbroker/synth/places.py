"""Roads and dwellings of the synthetic population.

Roads are created as people need them: each municipality's road list grows
with the number of dwellings handed out there (roughly with its square root,
so a large municipality has many roads with many house numbers each). Road
codes rise with small gaps below 9900, as ordinary CPR road codes do (9900 and
above are special codes).
"""

from __future__ import annotations

import bisect
import itertools
import random

from cprbroker.synth.chance import below, pick
from cprbroker.synth.geography import (
    MUNICIPALITIES,
    MUNICIPALITY_BY_CODE,
    ROAD_HONOUR_SUFFIXES,
    ROAD_PREFIXES,
    ROAD_SUFFIXES,
)
from cprbroker.synth.names import MALE_OLDER, SURNAMES
from cprbroker.synth.person import Dwelling, Road

_LAST_ORDINARY_ROAD_CODE = 9899
_FLOORS = ("st", "01", "01", "02", "02", "03", "03", "04", "05", "06")
_DOORS = ("  th", "  tv", "  th", "  tv", "  mf")


class RoadCatalogue:
    """The roads created so far, per municipality, and dwelling hand-out."""

    def __init__(self) -> None:
        self._roads: dict[str, list[Road]] = {m.code: [] for m in MUNICIPALITIES}
        self._names: dict[str, set[str]] = {m.code: set() for m in MUNICIPALITIES}
        self._next_code: dict[str, int] = {m.code: 1 for m in MUNICIPALITIES}
        weights = [m.population for m in MUNICIPALITIES]
        self._cumulative = list(itertools.accumulate(weights))
        self._codes = [m.code for m in MUNICIPALITIES]

    def random_municipality(self, rng: random.Random, *, other_than: str | None = None) -> str:
        """A municipality code drawn by population weight (not ``other_than``)."""
        while True:
            point = rng.random() * self._cumulative[-1]
            code = self._codes[bisect.bisect_right(self._cumulative, point)]
            if code != other_than:
                return code

    def roads(self, municipality: str) -> list[Road]:
        """The roads of ``municipality`` created so far (do not modify)."""
        return self._roads[municipality]

    def _road(self, rng: random.Random, municipality: str) -> Road:
        roads = self._roads[municipality]
        room = self._next_code[municipality] <= _LAST_ORDINARY_ROAD_CODE - 12
        if roads and (not room or rng.random() >= 6.0 / (len(roads) + 6)):
            return roads[int(len(roads) * rng.random() ** 1.3)]
        name = self._new_name(rng, municipality)
        code = self._next_code[municipality] + below(rng, 11)
        self._next_code[municipality] = code + 1
        postcode, district = pick(rng, MUNICIPALITY_BY_CODE[municipality].postcodes)
        road = Road(municipality, f"{code:04d}", name, postcode, district)
        roads.append(road)
        return road

    def _new_name(self, rng: random.Random, municipality: str) -> str:
        taken = self._names[municipality]
        name = ""
        for _ in range(30):
            if rng.random() < 0.8:
                name = pick(rng, ROAD_PREFIXES) + pick(rng, ROAD_SUFFIXES)
            else:
                suffix = pick(rng, ROAD_HONOUR_SUFFIXES)
                name = f"{pick(rng, MALE_OLDER)} {pick(rng, SURNAMES)}{suffix}"
            if name not in taken:
                break
        taken.add(name)
        return name

    def new_dwelling(self, rng: random.Random, municipality: str) -> Dwelling:
        """A dwelling in ``municipality``: a flat with floor and door in the
        municipality's share of cases, else a house."""
        road = self._road(rng, municipality)
        number = 1 + int(rng.random() ** 2 * 140)
        letter = pick(rng, "ABC") if rng.random() < 0.05 else " "
        house_number = f"{number:03d}{letter}"
        if rng.random() < MUNICIPALITY_BY_CODE[municipality].flat_share:
            return Dwelling(road, house_number, pick(rng, _FLOORS), pick(rng, _DOORS))
        return Dwelling(road, house_number)


__all__ = ["RoadCatalogue"]
