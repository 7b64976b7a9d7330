"""The founding population: households of singles, couples, families and
single parents in the municipalities by population weight, plus people who are
emigrated, disappeared or dead, and protections.

Proportions are rough Danish ones: about 37 % single households, married
couples mostly in the older groups, one to three children per family, a
widow(er) often linked to the dead spouse by PNR, about 11 % born abroad,
1.5 % with name and address protection.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import random

from cprbroker.synth.chance import below, between, weighted
from cprbroker.synth.geography import COUNTRY_BY_CODE, EMIGRATION_WEIGHTS
from cprbroker.synth.identity import birth_from_age, given_names, new_person, surname
from cprbroker.synth.person import Custody, Departure, ParentRef, Person, Protection
from cprbroker.synth.population import Population, timestamp

_ADULT_AGE_BANDS = (
    (18, 29, 16.0), (30, 39, 13.0), (40, 49, 13.0), (50, 59, 14.0),
    (60, 69, 12.0), (70, 79, 10.0), (80, 89, 4.5), (90, 99, 1.0),
)  # fmt: skip
_EMIGRATION_CODES = tuple(code for code, _ in EMIGRATION_WEIGHTS)
_EMIGRATION_WEIGHTS = tuple(weight for _, weight in EMIGRATION_WEIGHTS)


@functools.cache
def _age_bands(low: int, high: int) -> tuple[tuple[tuple[int, int], ...], tuple[float, ...]]:
    """The age bands clipped to [low, high] and the running totals of their
    weights (a band's weight is per year of age)."""
    clipped = [(max(a, low), min(b, high), w) for a, b, w in _ADULT_AGE_BANDS]
    kept = [(a, b, w * (b - a + 1)) for a, b, w in clipped if a <= b]
    return tuple((a, b) for a, b, _ in kept), tuple(itertools.accumulate(w for _, _, w in kept))


MOTHER = "0003"
FATHER = "0004"


def day_between(rng: random.Random, first: dt.date, last: dt.date) -> dt.date:
    """A day from ``first`` to ``last`` inclusive (``first`` if ``last`` is earlier)."""
    span = (last - first).days
    return first if span <= 0 else first + dt.timedelta(days=below(rng, span + 1))


def clock(rng: random.Random, day: dt.date) -> str:
    """A timestamp on ``day`` in office hours."""
    return timestamp(day, 8 + below(rng, 9), below(rng, 60))


def emigration_departure(rng: random.Random, departed_at: str) -> Departure:
    """A departure to a country drawn by emigration weight, with a foreign address."""
    code = rng.choices(_EMIGRATION_CODES, _EMIGRATION_WEIGHTS)[0]
    country = COUNTRY_BY_CODE[code]
    lines = (f"{country.street} {1 + below(rng, 80)}", country.city, country.name.upper())
    return Departure(code, departed_at, lines)


def addressing_name(first: str, last: str) -> str:
    """ "Last,First" as CPR writes a name in 012 and 015 when there is no PNR."""
    return f"{last},{first}"[:34]


def marry(a: Person, b: Person, since: str) -> None:
    """Make ``a`` and ``b`` each other's spouse (012 both ways) from ``since``."""
    for one, other in ((a, b), (b, a)):
        one.civil_status = "G"
        one.spouse_pnr = other.pnr
        one.spouse_birth_date = ""
        one.spouse_name = ""
        one.civil_since = since


def link_child(child: Person, mother: Person | None, father: Person | None) -> None:
    """Record parenthood both ways: 015 on the child, 014 on each parent."""
    if mother is not None:
        child.mother = ParentRef(child.birth_date, pnr=mother.pnr)
        mother.children.append(child.pnr)
    if father is not None:
        child.father = ParentRef(child.birth_date, pnr=father.pnr)
        father.children.append(child.pnr)


def custody_of(child: Person, holders: list[tuple[str, Person]]) -> None:
    """016 records for a minor: (relation type, holder) pairs from birth."""
    child.custody = tuple(Custody(kind, holder.pnr, child.birth_date) for kind, holder in holders)


class Founder:
    """Builds the founding population household by household."""

    def __init__(self, rng: random.Random, population: Population, today: dt.date) -> None:
        self.rng = rng
        self.population = population
        self.today = today
        self._singles: list[Person] = []

    # -- people -------------------------------------------------------------

    def adult_age(self, low: int = 18, high: int = 99) -> int:
        """An adult age drawn from the Danish age pyramid within [low, high]."""
        bands, cumulative = _age_bands(low, high)
        first, last = weighted(self.rng, bands, cumulative)
        return between(self.rng, first, last)

    def person(
        self,
        age: int,
        male: bool,
        *,
        born_abroad: bool | None = None,
        last_name: str | None = None,
    ) -> Person:
        """A new person aged ``age`` today (see :func:`new_person`); adults
        are born abroad at the Danish rate unless ``born_abroad`` says."""
        birth = birth_from_age(self.rng, self.today, age)
        if born_abroad is None:
            born_abroad = age >= 18 and self.rng.random() < 0.11
        return new_person(
            self.rng,
            self.population,
            birth,
            male,
            self.today,
            born_abroad=born_abroad,
            last_name=last_name,
        )

    def past(self, earliest: dt.date, latest_days_ago: int = 7) -> dt.date:
        """A day from ``earliest`` (not before 1960) to ``latest_days_ago`` ago."""
        first = max(earliest, dt.date(1960, 1, 1))
        return day_between(self.rng, first, self.today - dt.timedelta(days=latest_days_ago))

    def settle(self, members: list[Person]) -> None:
        """Give ``members`` one new dwelling, with move-in history."""
        rng = self.rng
        places = self.population.places
        municipality = places.random_municipality(rng)
        dwelling = places.new_dwelling(rng, municipality)
        births = [dt.date.fromisoformat(m.birth_date) for m in members]
        adults = [b for b in births if (self.today - b).days >= 18 * 365] or births
        grown_up = max(adults) + dt.timedelta(days=18 * 365)
        moved = self.past(max(grown_up, self.today - dt.timedelta(days=25 * 365)))
        came_from = ""
        if rng.random() < 0.5:
            came_from = places.random_municipality(rng, other_than=municipality)
        municipality_since = (
            moved if came_from else self.past(max(adults), (self.today - moved).days)
        )
        moved_at = clock(rng, moved)
        for member, birth in zip(members, births, strict=True):
            if birth >= moved:
                member.moved_in = member.municipality_since = timestamp(birth, 12)
            elif came_from:
                # Entered the municipality with this address: TILFLYKOMDTO =
                # TILFLYDTO = FRAFLYKOMDTO.
                member.moved_in = member.municipality_since = moved_at
                member.previous_municipality = came_from
                member.previous_municipality_left = moved_at
            else:
                member.moved_in = moved_at
                member.municipality_since = timestamp(max(municipality_since, birth), 12)
            self.population.move_in(member, dwelling)

    def civil_history(self, person: Person, age: int) -> None:
        """Unmarried, divorced or widowed by age, the former spouse by name."""
        rng = self.rng
        draw = rng.random()
        if age < 30:
            divorced, widowed = 0.05, 0.0
        elif age < 50:
            divorced, widowed = 0.4, 0.05
        elif age < 70:
            divorced, widowed = 0.5, 0.25
        else:
            divorced, widowed = 0.25, 0.65
        if draw >= divorced + widowed:
            return
        other_age = max(18, age + between(rng, -4, 4))
        other_birth = birth_from_age(rng, self.today, other_age)
        first = given_names(rng, not person.male, other_birth.year)
        person.civil_status = "F" if draw < divorced else "E"
        person.spouse_birth_date = other_birth.isoformat()
        person.spouse_name = addressing_name(first, surname(rng))
        when = self.past(dt.date.fromisoformat(person.birth_date) + dt.timedelta(days=25 * 365))
        person.civil_since = clock(rng, when)

    # -- households ---------------------------------------------------------

    def single(self, room: int) -> None:
        """One adult living alone; sometimes (if ``room`` allows a second
        person) widowed from a dead spouse linked by PNR."""
        age = self.adult_age()
        person = self.person(age, self.rng.random() < (0.35 if age > 75 else 0.5))
        self.civil_history(person, age)
        if person.civil_status == "E" and room >= 2 and self.rng.random() < 0.5:
            self.dead_spouse(person, age)
        self.settle([person])
        self._singles.append(person)

    def dead_spouse(self, widow: Person, age: int) -> None:
        """Replace ``widow``'s named late spouse by a dead person (status 90)
        linked by PNR both ways."""
        spouse = self.person(max(18, age + between(self.rng, -2, 5)), not widow.male)
        born = dt.date.fromisoformat(widow.birth_date)
        married = self.past(born + dt.timedelta(days=22 * 365), 400)
        died = self.past(married + dt.timedelta(days=300))
        marry(widow, spouse, clock(self.rng, married))
        died_at = clock(self.rng, died)
        widow.civil_status = "E"
        widow.civil_since = died_at
        spouse.status = "90"
        spouse.status_since = died_at

    def couple(self) -> None:
        """Two adults at one address, married or living together."""
        rng = self.rng
        age = self.adult_age(20, 95)
        man = self.person(age, True)
        woman = self.person(max(18, age - between(rng, -3, 6)), False)
        share = 0.35 if age < 30 else 0.65 if age < 50 else 0.85
        if rng.random() < share:
            born = max(man.birth_date, woman.birth_date)
            since = self.past(dt.date.fromisoformat(born) + dt.timedelta(days=20 * 365))
            marry(man, woman, clock(rng, since))
        self.settle([man, woman])

    def family(self, size: int) -> None:
        """A couple with ``size - 2`` children under 25."""
        rng = self.rng
        mother_age = between(rng, 24, 55)
        mother = self.person(mother_age, False)
        father = self.person(max(18, mother_age + between(rng, -2, 6)), True)
        if rng.random() < 0.65:
            born = dt.date.fromisoformat(mother.birth_date)
            since = self.past(born + dt.timedelta(days=21 * 365))
            marry(mother, father, clock(rng, since))
        family_name = father.last_name if rng.random() < 0.6 else mother.last_name
        children = [self.child(mother_age, family_name, mother, father) for _ in range(size - 2)]
        self.settle([mother, father, *children])

    def child(
        self, parent_age: int, family_name: str, mother: Person | None, father: Person | None
    ) -> Person:
        """A child of ``mother`` and ``father`` (either may be None), with
        custody for the resident parents while a minor."""
        age = between(self.rng, max(0, parent_age - 42), min(24, parent_age - 20))
        kid = self.person(age, self.rng.random() < 0.51, born_abroad=False, last_name=family_name)
        link_child(kid, mother, father)
        if age < 18:
            custody_of(
                kid,
                [(kind, p) for kind, p in ((MOTHER, mother), (FATHER, father)) if p is not None],
            )
        return kid

    def single_parent(self, size: int) -> None:
        """One parent with children; the other parent lives elsewhere, linked
        by PNR when a fitting single adult exists, else known by name only."""
        rng = self.rng
        is_mother = rng.random() < 0.8
        age = between(rng, 24, 55)
        parent = self.person(age, not is_mother)
        other = self.other_parent(parent)
        children = []
        for _ in range(size - 1):
            mother, father = (parent, other) if is_mother else (other, parent)
            kid = self.child(age, parent.last_name, mother, father)
            if other is None:
                birth = birth_from_age(rng, self.today, age + between(rng, -3, 5))
                ref = ParentRef(
                    kid.birth_date,
                    birth_date=birth.isoformat(),
                    name=addressing_name(given_names(rng, is_mother, birth.year), surname(rng)),
                )
                if is_mother:
                    kid.father = ref
                else:
                    kid.mother = ref
            elif kid.custody and rng.random() < 0.7:
                kid.custody = tuple(c for c in kid.custody if c.holder_pnr == parent.pnr)
            children.append(kid)
        self.settle([parent, *children])

    def other_parent(self, parent: Person) -> Person | None:
        """A single adult of the other sex and a fitting age, if one is found."""
        for _ in range(6):
            if not self._singles:
                return None
            candidate = self._singles[int(self.rng.random() * len(self._singles))]
            gap = abs(int(candidate.birth_date[:4]) - int(parent.birth_date[:4]))
            if candidate.male != parent.male and gap <= 8 and candidate.status == "01":
                return candidate
        return None

    def absent(self, status: str) -> None:
        """A single adult who is emigrated (80), disappeared (70) or dead (90)."""
        rng = self.rng
        age = self.adult_age(20, 99 if status == "90" else 70)
        person = self.person(age, rng.random() < 0.5)
        born = dt.date.fromisoformat(person.birth_date)
        left = self.past(born + dt.timedelta(days=18 * 365), 30)
        at = clock(rng, left)
        person.status = status
        person.status_since = at
        if status == "80":
            person.departure = emigration_departure(rng, at)
            self.population.emigrated.append(person.pnr)
        elif status == "70":
            person.disappeared_at = at
            self.population.disappeared.append(person.pnr)

    def protect(self) -> None:
        """Name and address protection (0001, one year) for about 1.5 % of
        resident adults, a few ending within the coming days, and marketing
        protection (0003, open-ended) for about 6 %."""
        rng = self.rng
        population = self.population
        residents = max(1, len(population))
        wanted = max(6, round(residents * 0.015))

        today = self.today.isoformat()

        def eligible(p: Person) -> bool:
            return p.is_resident and p.age_on(today) >= 18 and not p.protections

        for i in range(wanted):
            person = population.sample(rng, eligible)
            if person is None:
                break
            # The first few end soon, so that even a small population sees
            # protections lapse (P11) in its first days of deltas.
            days_left = 2 * (i + 1) if i < 6 else between(rng, 1, 364)
            end = self.today + dt.timedelta(days=days_left)
            start = end - dt.timedelta(days=365)
            person.protections = (Protection("0001", start.isoformat(), end.isoformat()),)
            population.protected.append(person.pnr)
        for _ in range(round(residents * 0.06)):
            person = population.sample(rng, lambda p: p.is_resident and p.age_on(today) >= 18)
            if person is None or any(p.type == "0003" for p in person.protections):
                continue
            born = dt.date.fromisoformat(person.birth_date)
            start = self.past(born + dt.timedelta(days=18 * 365))
            person.protections = (*person.protections, Protection("0003", start.isoformat(), ""))


def found_population(rng: random.Random, size: int, today: dt.date) -> Population:
    """A population of exactly ``size`` persons as of ``today``."""
    population = Population()
    founder = Founder(rng, population, today)
    if size >= 60:
        for status, share in (("80", 0.01), ("70", 0.001), ("90", 0.003)):
            for _ in range(max(3, round(size * share))):
                founder.absent(status)
    while len(population) < size:
        remaining = size - len(population)
        draw = rng.random()
        if draw < 0.37 or remaining < 2:
            founder.single(remaining)
        elif draw < 0.63:
            founder.couple()
        elif draw < 0.92:
            size_wanted = 2 + rng.choices((1, 2, 3), (0.35, 0.45, 0.2))[0]
            if size_wanted > remaining:
                founder.couple()
            else:
                founder.family(size_wanted)
        else:
            size_wanted = 1 + rng.choices((1, 2), (0.6, 0.4))[0]
            founder.single_parent(min(size_wanted, remaining))
    founder.protect()
    return population


__all__ = [
    "Founder",
    "clock",
    "custody_of",
    "day_between",
    "found_population",
    "link_child",
    "marry",
]
