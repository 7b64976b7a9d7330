"""A new synthetic person's own data: CPR number, names, birthplace,
citizenship, church membership and occupation."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from cprbroker.synth.chance import below, pick, weighted
from cprbroker.synth.geography import (
    CITIZENSHIP_WEIGHTS,
    COUNTRY_BY_CODE,
    DENMARK,
    MUNICIPALITY_BY_CODE,
)
from cprbroker.synth.names import (
    FEMALE_OLDER,
    FEMALE_YOUNGER,
    FOREIGN_FEMALE,
    FOREIGN_MALE,
    FOREIGN_SURNAMES,
    MALE_OLDER,
    MALE_YOUNGER,
    MIDDLE_NAMES,
    OCCUPATIONS,
    SURNAME_WEIGHTS,
    SURNAMES,
)
from cprbroker.synth.person import Person
from cprbroker.synth.pnrgen import issue_pnr
from cprbroker.synth.population import Population, timestamp

_CITIZENSHIP_CODES = tuple(code for code, _ in CITIZENSHIP_WEIGHTS)
_CITIZENSHIP_CUMULATIVE = tuple(itertools.accumulate(weight for _, weight in CITIZENSHIP_WEIGHTS))
_SURNAME_CUMULATIVE = tuple(itertools.accumulate(SURNAME_WEIGHTS))


def surname(rng: random.Random, *, foreign: bool = False) -> str:
    """A surname, Danish by frequency or a foreign one."""
    if foreign:
        return pick(rng, FOREIGN_SURNAMES)
    return weighted(rng, SURNAMES, _SURNAME_CUMULATIVE)


def given_names(rng: random.Random, male: bool, birth_year: int, *, foreign: bool = False) -> str:
    """First names (one, sometimes two) fitting sex and generation."""
    if foreign:
        return pick(rng, FOREIGN_MALE if male else FOREIGN_FEMALE)
    if male:
        pool = MALE_OLDER if birth_year < 1975 else MALE_YOUNGER
    else:
        pool = FEMALE_OLDER if birth_year < 1975 else FEMALE_YOUNGER
    first = pick(rng, pool)
    if rng.random() < 0.25:
        second = pick(rng, pool)
        if second != first:
            return f"{first} {second}"
    return first


def occupation(rng: random.Random, age: int) -> str:
    """STILLING: blank for children, students, a trade or pensioner by age."""
    if age < 16:
        return ""
    if age < 25 and rng.random() < 0.6:
        return "Studerende"
    if age >= 67:
        return "Pensionist" if rng.random() < 0.8 else ""
    return pick(rng, OCCUPATIONS) if rng.random() < 0.75 else ""


def birth_from_age(rng: random.Random, today: dt.date, age: int) -> dt.date:
    """A birth date giving age ``age`` on ``today``."""
    return today - dt.timedelta(days=int((age + rng.random()) * 365.2425) + 1)


def new_person(
    rng: random.Random,
    population: Population,
    birth: dt.date,
    male: bool,
    today: dt.date,
    *,
    born_abroad: bool = False,
    last_name: str | None = None,
    birthplace: str | None = None,
) -> Person:
    """A new person (registered in ``population``, no address yet) born on
    ``birth``: CPR number, names, birthplace, citizenship, church and
    occupation as of ``today``.

    People born abroad get a foreign birthplace and mostly a foreign
    citizenship; some of them have 1 January as birth date (unknown day), and
    half of those a number issued after 2007 without modulus 11.
    """
    mod11 = True
    if born_abroad and rng.random() < 0.15:
        birth = dt.date(birth.year, 1, 1)
        mod11 = rng.random() < 0.5
    pnr = issue_pnr(rng, birth, male, population.taken, mod11=mod11)
    birth_text = birth.isoformat()
    age = today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))
    foreign_name = born_abroad and rng.random() < 0.7
    person = Person(
        pnr=pnr,
        male=male,
        birth_date=birth_text,
        first_names=given_names(rng, male, birth.year, foreign=foreign_name),
        last_name=last_name or surname(rng, foreign=foreign_name),
        name_since=timestamp(birth, 12),
        occupation=occupation(rng, age),
        civil_since=timestamp(birth, 12),
    )
    if rng.random() < 0.3 and not foreign_name:
        person.middle_name = pick(rng, MIDDLE_NAMES)
    if born_abroad:
        country = weighted(rng, _CITIZENSHIP_CODES, _CITIZENSHIP_CUMULATIVE)
        person.birthplace_code = country
        person.birthplace_text = COUNTRY_BY_CODE[country].name
        naturalised = rng.random() < 0.3
        person.citizenship = DENMARK if naturalised else country
        since = max(birth + dt.timedelta(days=365 * 18), today - dt.timedelta(days=3000))
        person.citizenship_since = timestamp(since if naturalised else birth, 12)
        person.church = "F" if rng.random() < 0.08 else "U"
    else:
        code = birthplace or population.places.random_municipality(rng)
        person.birthplace_code = code
        person.birthplace_text = MUNICIPALITY_BY_CODE[code].name[:20]
        person.citizenship_since = timestamp(birth, 12)
        person.church = "F" if rng.random() < 0.74 else "U"
    baptism = min(birth + dt.timedelta(days=90 + below(rng, 120)), today)
    person.church_since = (baptism if person.church == "F" else birth).isoformat()
    population.add(person)
    return person


__all__ = ["birth_from_age", "given_names", "new_person", "occupation", "surname"]
