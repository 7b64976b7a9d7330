"""Family changes: marriage, divorce, death, birth and paternity, with the
derived events CPR gives the relatives (cpr-domain.md §3.2-3.3): A19 marriage
and A20 divorce (spouse ÆG), A21 death (spouse ÆG, who becomes a widow(er)),
A51 birth (mother MO, father FA), A35 paternity (father NF).
"""

from __future__ import annotations

import datetime as dt

from cprbroker.synth.day import Day, kin, lives_here
from cprbroker.synth.households import FATHER, MOTHER, custody_of, link_child, marry
from cprbroker.synth.identity import new_person
from cprbroker.synth.person import ParentRef, Person


def _unwed(person: Person) -> bool:
    return person.civil_status in ("U", "F", "E")


def marriage(day: Day) -> bool:
    """A19: two unmarried adults marry; if they did not live together, the
    second moves in with the first (A01)."""

    def candidate(p: Person) -> bool:
        return lives_here(p) and _unwed(p) and day.is_adult(p)

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
            and not kin(first, p) and abs(p.age_on(day.today) - age) <= 20
        ),
        None,
    )  # fmt: skip
    moves_in = partner is None
    if partner is None:
        partner = day.sample(
            lambda p: candidate(p) and p.male != first.male and p.dwelling is not None
            and len(p.dwelling.residents) == 1 and abs(p.age_on(day.today) - age) <= 12
            and not kin(first, p)
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
        if not (lives_here(p) and p.civil_status == "G"):
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
        if not lives_here(p) or (p.civil_status == "G") != married:
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
        return lives_here(p) and not p.male and 20 <= p.age_on(day.today) <= 44

    mother = day.sample(candidate)
    if mother is None or mother.dwelling is None:
        return False
    father = next(
        (
            p
            for p in population.household(mother)
            if p.male and day.is_adult(p) and not kin(mother, p)
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
        return lives_here(p) and no_father and not day.is_adult(p)

    child = day.sample(candidate, attempts=2000)
    if child is None:
        return False
    born = int(child.birth_date[:4])
    mother = day.population.get(child.mother.pnr) if child.mother is not None else None
    father = day.sample(
        lambda p: lives_here(p) and p.male and 18 <= born - int(p.birth_date[:4]) <= 55
        and not kin(child, p) and (mother is None or not kin(mother, p))
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
