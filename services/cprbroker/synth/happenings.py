"""Changes to one person or household: moves (A01), name change (A13),
protection set (A33) and lapsed (P11), emigration (A06) and return (A04),
disappearance (A02) and found again (A03), church membership (A34) and PNR
change (P03: the old number is the main person, the new one carries PN).
Each is a function of the :class:`Day` that returns whether it found someone
it could happen to (family changes are in :mod:`cprbroker.synth.family`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from cprbroker.synth.day import Day, date_of, lives_here, parent_or_child
from cprbroker.synth.households import emigration_departure
from cprbroker.synth.identity import surname
from cprbroker.synth.names import MIDDLE_NAMES
from cprbroker.synth.person import FormerPnr, Person, Protection
from cprbroker.synth.pnrgen import issue_pnr


def move(day: Day, *, across: bool) -> bool:
    """A01 for a household moving (an adult child may move out alone),
    within the municipality or to another one."""
    person = day.sample(lives_here)
    if person is None:
        return False
    household = day.population.household(person)
    lives_with_parent = any(
        parent_or_child(person, other) for other in household if other is not person
    )
    if day.is_adult(person) and lives_with_parent and day.rng.random() < 0.7:
        household = [person]
    if not all(day.free(p) for p in household):
        return False
    origin = person.municipality
    assert origin is not None  # noqa: S101 - residents have a dwelling
    places = day.population.places
    target = places.random_municipality(day.rng, other_than=origin) if across else origin
    dwelling = places.new_dwelling(day.rng, target)
    at = day.when()
    day.touch(*household)
    for mover in household:
        day.relocate(mover, dwelling, at)
        day.event(mover, at, "A01")
    return True


def name_change(day: Day) -> bool:
    """A13: an adult takes a new surname, sometimes also a middle name."""
    person = day.sample(lambda p: lives_here(p) and day.is_adult(p))
    if person is None:
        return False
    at = day.when()
    day.touch(person)
    new_name = surname(day.rng)
    while new_name == person.last_name:
        new_name = surname(day.rng)
    person.last_name = new_name
    if day.rng.random() < 0.3:
        person.middle_name = day.rng.choice(MIDDLE_NAMES)
    person.name_since = at
    day.event(person, at, "A13")
    return True


def protection_set(day: Day) -> bool:
    """A33: an adult gets name and address protection (0001) for one year."""

    def candidate(p: Person) -> bool:
        return lives_here(p) and day.is_adult(p) and all(x.type != "0001" for x in p.protections)

    person = day.sample(candidate)
    if person is None:
        return False
    at = day.when()
    start = date_of(at)
    end = start + dt.timedelta(days=365)
    day.touch(person)
    person.protections = (
        *person.protections,
        Protection("0001", start.isoformat(), end.isoformat()),
    )
    day.population.protected.append(person.pnr)
    day.event(person, at, "A33")
    return True


def protection_lapse(day: Day) -> int:
    """P11 for every name and address protection whose end date has come
    (postponed a day for a person already changed today). Returns how many."""
    population = day.population
    last = day.covered[-1].isoformat()
    still: list[str] = []
    lapsed = 0
    for pnr in population.protected:
        person = population[pnr]
        due = [p for p in person.protections if p.type == "0001" and p.end <= last]
        if not due or not day.free(person):
            still.append(pnr)
            continue
        day.touch(person)
        person.protections = tuple(p for p in person.protections if p not in due)
        end = max(dt.date.fromisoformat(due[0].end), day.covered[0])
        day.event(person, f"{end:%Y%m%d}0005", "P11")
        lapsed += 1
    population.protected = still
    return lapsed


def emigration(day: Day) -> bool:
    """A06: a household (or a person living alone) emigrates: status 80, a
    foreign address (005), no Danish address."""
    person = day.sample(lambda p: lives_here(p) and day.is_adult(p))
    if person is None:
        return False
    household = day.population.household(person)
    if len(household) > 4 or not all(day.free(p) for p in household):
        return False
    at = day.when()
    departure = emigration_departure(day.rng, at)
    day.touch(*household)
    for emigrant in household:
        emigrant.status = "80"
        emigrant.status_since = at
        emigrant.departure = departure
        day.population.move_in(emigrant, None)
        day.population.emigrated.append(emigrant.pnr)
        day.event(emigrant, at, "A06")
    return True


def _back_from(day: Day, register: list[str], status: str) -> Person | None:
    """Someone from ``register`` (emigrated or disappeared) who still has
    ``status`` and is free, removed from the register."""
    for _ in range(10):
        if not register:
            return None
        index = int(day.rng.random() * len(register))
        person = day.population[register[index]]
        if person.status == status and day.free(person):
            register[index] = register[-1]
            register.pop()
            return person
    return None


def _settle_back(day: Day, person: Person, at: str) -> None:
    places = day.population.places
    dwelling = places.new_dwelling(day.rng, places.random_municipality(day.rng))
    person.status = "01"
    person.status_since = at
    day.relocate(person, dwelling, at)


def immigration(day: Day) -> bool:
    """A04: an emigrated person returns to a new Danish address."""
    person = _back_from(day, day.population.emigrated, "80")
    if person is None:
        return False
    at = day.when()
    day.touch(person)
    person.departure = None
    _settle_back(day, person, at)
    day.event(person, at, "A04")
    return True


def disappearance(day: Day) -> bool:
    """A02: an adult living alone disappears (status 70, 007, no address)."""
    person = day.sample(
        lambda p: lives_here(p) and p.dwelling is not None and len(p.dwelling.residents) == 1
        and 18 <= p.age_on(day.today) <= 70
    )  # fmt: skip
    if person is None:
        return False
    at = day.when()
    day.touch(person)
    person.status = "70"
    person.status_since = at
    person.disappeared_at = at
    day.population.move_in(person, None)
    day.population.disappeared.append(person.pnr)
    day.event(person, at, "A02")
    return True


def reappearance(day: Day) -> bool:
    """A03: a disappeared person is found again and registered at an address."""
    person = _back_from(day, day.population.disappeared, "70")
    if person is None:
        return False
    at = day.when()
    day.touch(person)
    person.disappeared_at = ""
    _settle_back(day, person, at)
    day.event(person, at, "A03")
    return True


def church(day: Day) -> bool:
    """A34: an adult leaves the Folkekirke (or, less often, joins it)."""
    person = day.sample(lambda p: lives_here(p) and day.is_adult(p))
    if person is None:
        return False
    if person.church != "F" and day.rng.random() < 0.6:
        return False
    at = day.when()
    day.touch(person)
    person.church = "U" if person.church == "F" else "F"
    person.church_since = date_of(at).isoformat()
    day.event(person, at, "A34")
    return True


def pnr_change(day: Day) -> bool:
    """P03: an adult without family links by PNR gets a new number (changed
    sex or corrected birth date). The old number gets status 60 and PNRGAELD;
    the new one a 022 record of the old; the old is the main person, the new
    one carries PN."""
    population = day.population

    def candidate(p: Person) -> bool:
        return (
            lives_here(p) and day.is_adult(p) and not p.spouse_pnr and not p.children
            and not p.custody and p.former_pnr is None and not p.protections
            and all(ref is None or not ref.pnr for ref in (p.mother, p.father))
        )  # fmt: skip

    old = day.sample(candidate, attempts=1000)
    if old is None or old.dwelling is None:
        return False
    at = day.when()
    born = dt.date.fromisoformat(old.birth_date)
    male = old.male
    if day.rng.random() < 0.5:
        male = not male
    else:
        shift = dt.timedelta(days=day.rng.choice((-1, 1)) * day.rng.randint(1, 40))
        born = min(born + shift, date_of(at))
    new_number = issue_pnr(day.rng, born, male, population.taken)
    day.touch(old)
    dwelling = old.dwelling
    new = dataclasses.replace(
        old,
        pnr=new_number,
        male=male,
        birth_date=born.isoformat(),
        children=[],
        dwelling=None,
        status_since=at,
        former_pnr=FormerPnr(old.pnr, old.birth_date, date_of(at).isoformat()),
    )
    population.add(new)
    day.created(new)
    old.status = "60"
    old.status_since = at
    old.current_pnr = new_number
    population.move_in(old, None)
    population.move_in(new, dwelling)
    day.event(old, at, "P03")
    day.event(new, at, "P03", "PN")
    return True
