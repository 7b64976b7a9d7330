"""The kinds of change a day brings, each as a function of the :class:`Day`
that returns whether it found someone it could happen to.

CPR event codes and derived marks (cpr-domain.md §3): A01 move, A19 marriage
(spouse ÆG), A20 divorce (spouse ÆG), A21 death (spouse ÆG, who becomes a
widow(er)), A51 birth (mother MO, father FA), A35 paternity (father NF), A13
name change, A33 protection set, P11 protection lapsed, A06 emigration, A04
return, A02 disappearance, A03 found again, A34 church membership, P03 PNR
change (the old number is the main person, the new one carries PN).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from cprbroker.synth.day import Day
from cprbroker.synth.households import (
    FATHER,
    MOTHER,
    custody_of,
    emigration_departure,
    link_child,
    marry,
)
from cprbroker.synth.identity import new_person, surname
from cprbroker.synth.names import MIDDLE_NAMES
from cprbroker.synth.person import FormerPnr, ParentRef, Person, Protection
from cprbroker.synth.pnrgen import issue_pnr


def _resident(person: Person) -> bool:
    return person.status == "01" and person.dwelling is not None


def _unwed(person: Person) -> bool:
    return person.civil_status in ("U", "F", "E")


def _related(a: Person, b: Person) -> bool:
    parents = {ref.pnr for ref in (a.mother, a.father) if ref is not None}
    return b.pnr in parents or a.pnr in {r.pnr for r in (b.mother, b.father) if r is not None}


def move(day: Day, *, across: bool) -> bool:
    """A01 for a household moving (an adult child may move out alone),
    within the municipality or to another one."""
    person = day.sample(_resident)
    if person is None:
        return False
    household = day.population.household(person)
    lives_with_parent = any(_related(person, other) for other in household if other is not person)
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


def marriage(day: Day) -> bool:
    """A19: two unmarried adults marry; if they did not live together, the
    second moves in with the first (A01)."""

    def candidate(p: Person) -> bool:
        return _resident(p) and _unwed(p) and day.is_adult(p)

    first = day.sample(candidate)
    if first is None:
        return False
    age = first.age_on(day.today)
    household = day.population.household(first)
    partner = next(
        (
            p
            for p in household
            if p is not first and candidate(p) and day.free(p) and p.male != first.male
            and not _related(first, p) and abs(p.age_on(day.today) - age) <= 20
        ),
        None,
    )  # fmt: skip
    moves_in = partner is None
    if partner is None:
        partner = day.sample(
            lambda p: candidate(p) and p.male != first.male and p.dwelling is not None
            and len(p.dwelling.residents) == 1 and abs(p.age_on(day.today) - age) <= 12
        )  # fmt: skip
    if partner is None or partner is first:
        return False
    at = day.when()
    day.touch(first, partner)
    marry(first, partner, at)
    day.event(first, at, "A19")
    day.event(partner, at, "A19", "ÆG")
    if moves_in and first.dwelling is not partner.dwelling:
        assert first.dwelling is not None  # noqa: S101 - candidate() requires it
        day.relocate(partner, first.dwelling, at)
        day.event(partner, at, "A01")
    return True


def divorce(day: Day) -> bool:
    """A20: a married couple living together divorces; one of them moves out
    (A01), mostly within the municipality."""
    population = day.population

    def candidate(p: Person) -> bool:
        if not (_resident(p) and p.civil_status == "G"):
            return False
        spouse = population.get(p.spouse_pnr)
        return spouse is not None and spouse.dwelling is p.dwelling and day.free(spouse)

    first = day.sample(candidate)
    if first is None:
        return False
    spouse = population[first.spouse_pnr]
    at = day.when()
    day.touch(first, spouse)
    for person in (first, spouse):
        person.civil_status = "F"
        person.civil_since = at
    day.event(first, at, "A20")
    day.event(spouse, at, "A20", "ÆG")
    leaver = first if first.male else spouse
    origin = leaver.municipality
    assert origin is not None  # noqa: S101 - residents have a dwelling
    across = day.rng.random() < 0.4
    target = population.places.random_municipality(day.rng, other_than=origin) if across else origin
    day.relocate(leaver, population.places.new_dwelling(day.rng, target), at)
    day.event(leaver, at, "A01")
    return True


_DEATH_ODDS = ((40, 0.01), (60, 0.05), (70, 0.15), (80, 0.35), (90, 0.7))


def death(day: Day, *, married: bool) -> bool:
    """A21: a person (married or not, as asked) dies: status 90, no address;
    a living spouse becomes widow(er) (CIVST E) with the derived A21 ÆG."""
    rng = day.rng
    population = day.population

    def candidate(p: Person) -> bool:
        if not _resident(p) or (p.civil_status == "G") != married:
            return False
        age = p.age_on(day.today)
        odds = next((o for limit, o in _DEATH_ODDS if age < limit), 1.0)
        if rng.random() >= odds:
            return False
        spouse = population.get(p.spouse_pnr) if married else None
        return not married or (spouse is not None and day.free(spouse))

    person = day.sample(candidate, attempts=2000)
    if person is None:
        return False
    at = day.when()
    spouse = population.get(person.spouse_pnr) if person.civil_status == "G" else None
    day.touch(person)
    person.status = "90"
    person.status_since = at
    population.move_in(person, None)
    day.event(person, at, "A21")
    if spouse is not None and spouse.status not in ("60", "90"):
        day.touch(spouse)
        spouse.civil_status = "E"
        spouse.civil_since = at
        day.event(spouse, at, "A21", "ÆG")
    return True


def birth(day: Day) -> bool:
    """A51: a child is born to a resident woman of 20-44, at her address; the
    father is her spouse or partner at the address, if any. Parents get the
    derived A51 (MO, FA) and the child in their 014."""
    rng = day.rng
    population = day.population

    def candidate(p: Person) -> bool:
        return _resident(p) and not p.male and 20 <= p.age_on(day.today) <= 44

    mother = day.sample(candidate)
    if mother is None or mother.dwelling is None:
        return False
    father = next(
        (
            p
            for p in population.household(mother)
            if p.male and day.is_adult(p) and not _related(mother, p)
            and (p.pnr == mother.spouse_pnr or mother.civil_status != "G")
        ),
        None,
    )  # fmt: skip
    if father is not None and not day.free(father):
        return False
    at = day.when()
    born = dt.date(int(at[:4]), int(at[4:6]), int(at[6:8]))
    family_name = (father or mother).last_name if rng.random() < 0.6 else mother.last_name
    day.touch(mother, *([father] if father else []))
    child = new_person(
        rng,
        population,
        born,
        rng.random() < 0.51,
        born,
        born_abroad=False,
        last_name=family_name,
        birthplace=mother.municipality,
    )
    day.created(child)
    child.name_since = child.civil_since = child.citizenship_since = at
    child.church, child.church_since = "U", born.isoformat()
    if father is not None and "5100" in (mother.citizenship, father.citizenship):
        child.citizenship = "5100"
    else:
        child.citizenship = mother.citizenship
    link_child(child, mother, father)
    custody_of(child, [(MOTHER, mother), *([(FATHER, father)] if father else [])])
    day.relocate(child, mother.dwelling, at)
    day.event(child, at, "A51")
    day.event(mother, at, "A51", "MO")
    if father is not None:
        day.event(father, at, "A51", "FA")
    return True


def paternity(day: Day) -> bool:
    """A35: a minor without a registered father gets one (015 on the child,
    014 on the father, who carries the derived A35 NF)."""

    def candidate(p: Person) -> bool:
        no_father = p.father is None or not p.father.pnr
        return _resident(p) and no_father and not day.is_adult(p)

    child = day.sample(candidate, attempts=2000)
    if child is None:
        return False
    born = int(child.birth_date[:4])
    father = day.sample(
        lambda p: _resident(p) and p.male and 18 <= born - int(p.birth_date[:4]) <= 55
        and p is not child
    )  # fmt: skip
    if father is None:
        return False
    at = day.when()
    day.touch(child, father)
    child.father = ParentRef(f"{at[:4]}-{at[4:6]}-{at[6:8]}", pnr=father.pnr)
    father.children.append(child.pnr)
    day.event(child, at, "A35")
    day.event(father, at, "A35", "NF")
    return True


def name_change(day: Day) -> bool:
    """A13: an adult takes a new surname, sometimes also a middle name."""
    person = day.sample(lambda p: _resident(p) and day.is_adult(p))
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


def _date_of(at: str) -> dt.date:
    return dt.date(int(at[:4]), int(at[4:6]), int(at[6:8]))


def protection_set(day: Day) -> bool:
    """A33: an adult gets name and address protection (0001) for one year."""

    def candidate(p: Person) -> bool:
        return _resident(p) and day.is_adult(p) and all(x.type != "0001" for x in p.protections)

    person = day.sample(candidate)
    if person is None:
        return False
    at = day.when()
    start = _date_of(at)
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
    person = day.sample(lambda p: _resident(p) and day.is_adult(p))
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
        lambda p: _resident(p) and p.dwelling is not None and len(p.dwelling.residents) == 1
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
    person = day.sample(lambda p: _resident(p) and day.is_adult(p))
    if person is None:
        return False
    if person.church != "F" and day.rng.random() < 0.6:
        return False
    at = day.when()
    day.touch(person)
    person.church = "U" if person.church == "F" else "F"
    person.church_since = _date_of(at).isoformat()
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
            _resident(p) and day.is_adult(p) and not p.spouse_pnr and not p.children
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
        born = min(born + shift, _date_of(at))
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
        former_pnr=FormerPnr(old.pnr, old.birth_date, _date_of(at).isoformat()),
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
