"""The replica's picture of one person: :class:`Snapshot` and its value parts.

Every class here is a frozen dataclass whose field names are the field names
of the matching Avro record in ``schemas/`` (``dk.cprbroker.v1.<Class>``), so
that :mod:`cprbroker.core.events.serial` converts them to and from plain dicts
without a per-class table. Dates are ISO 8601 strings exactly as far as CPR
knows them (``yyyy-MM-dd``, local Danish time ``yyyy-MM-ddTHH:mm``); a partly
unknown date keeps only its known parts (``1961-01``), never a guess.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Address:
    """Current Danish address: record 002 (location, moves) and 003 (text)."""

    municipality: str | None = None
    road_code: str | None = None
    house_number: str | None = None
    floor: str | None = None
    door: str | None = None
    building_number: str | None = None
    moved_in_at: str | None = None
    municipality_moved_in_at: str | None = None
    previous_municipality: str | None = None
    previous_municipality_left_at: str | None = None
    co_name: str | None = None
    supplementary_lines: tuple[str, ...] = ()
    road_name: str | None = None
    locality: str | None = None
    standard_address: str | None = None
    city: str | None = None
    postcode: str | None = None
    postal_district: str | None = None

    @property
    def location(self) -> tuple[str | None, ...]:
        """Where the person lives: municipality, road, house no., floor, door,
        building no. A change here is a move."""
        return (
            self.municipality,
            self.road_code,
            self.house_number,
            self.floor,
            self.door,
            self.building_number,
        )

    @property
    def text(self) -> tuple[object, ...]:
        """How the address is written (c/o, supplementary lines, road name,
        postcode, district, city). A change here alone is not a move."""
        return (
            self.co_name,
            self.supplementary_lines,
            self.road_name,
            self.locality,
            self.standard_address,
            self.city,
            self.postcode,
            self.postal_district,
        )


@dataclass(frozen=True, slots=True)
class Name:
    """Current name (record 008; the addressing name may come from 003)."""

    first_names: str | None = None
    middle_name: str | None = None
    last_name: str | None = None
    addressing_name: str | None = None
    since: str | None = None


@dataclass(frozen=True, slots=True)
class PersonStatus:
    """Register status (001 STATUS): 01 active ... 70, 80, 90."""

    code: str
    since: str | None = None


@dataclass(frozen=True, slots=True)
class CivilStatus:
    """Current civil status (record 012)."""

    code: str
    spouse_pnr: str | None = None
    spouse_birth_date: str | None = None
    spouse_name: str | None = None
    since: str | None = None


@dataclass(frozen=True, slots=True)
class Protection:
    """One protection (record 004): type 0001 name and address, 0002 local
    directory, 0003 marketing, 0004 research."""

    type: str
    start: str | None = None
    end: str | None = None

    def active_on(self, day: str) -> bool:
        """Whether the protection is in force on ``day`` (``yyyy-MM-dd``).

        A protection without a start date counts as started; one without an
        end date as open. The end date is the first day it no longer holds.
        """
        if self.start is not None and self.start > day:
            return False
        return self.end is None or self.end > day


@dataclass(frozen=True, slots=True)
class Church:
    """Folkekirke membership (record 011)."""

    code: str
    since: str | None = None


@dataclass(frozen=True, slots=True)
class Citizenship:
    """Current citizenship (record 010)."""

    country_code: str
    since: str | None = None


@dataclass(frozen=True, slots=True)
class Parent:
    """One parent as record 015 gives it."""

    pnr: str | None = None
    birth_date: str | None = None
    name: str | None = None
    since: str | None = None


@dataclass(frozen=True, slots=True)
class Parents:
    """Mother and father (record 015)."""

    mother: Parent | None = None
    father: Parent | None = None


@dataclass(frozen=True, slots=True)
class Custody:
    """One holder of parental custody (record 016)."""

    relation_type: str
    start: str | None = None
    end: str | None = None
    holder_pnr: str | None = None


@dataclass(frozen=True, slots=True)
class Guardianship:
    """One guardianship (record 017, or 052 with its type)."""

    start: str | None = None
    end: str | None = None
    relation_type: str | None = None
    guardian_pnr: str | None = None
    guardian_lines: tuple[str, ...] = ()
    guardianship_type: str | None = None


@dataclass(frozen=True, slots=True)
class Emigration:
    """Current departure abroad (record 005)."""

    country_code: str | None = None
    departed_at: str | None = None
    foreign_address_lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Disappearance:
    """Current disappearance (record 007)."""

    disappeared_at: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything the replica knows about one person after one extract file.

    Collections are tuples sorted in a fixed order, so two snapshots built
    from the same records compare equal whatever the record order was.
    """

    pnr: str
    status: PersonStatus
    current_pnr: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    occupation: str | None = None
    name: Name | None = None
    address: Address | None = None
    emigration: Emigration | None = None
    disappearance: Disappearance | None = None
    civil_status: CivilStatus | None = None
    protections: tuple[Protection, ...] = ()
    church: Church | None = None
    citizenship: Citizenship | None = None
    parents: Parents | None = None
    children: tuple[str, ...] = ()
    custody: tuple[Custody, ...] = ()
    guardianship: tuple[Guardianship, ...] = ()

    @property
    def municipality(self) -> str | None:
        """The municipality code of the current address, if any."""
        return self.address.municipality if self.address is not None else None

    def active_protections(self, day: str) -> tuple[Protection, ...]:
        """The protections in force on ``day`` (``yyyy-MM-dd``)."""
        return tuple(p for p in self.protections if p.active_on(day))


class Domain(enum.Enum):
    """A part of the snapshot an event can be about; the value names the
    matching Avro change record ``dk.cprbroker.v1.<value>Change``."""

    ADDRESS = "Address"
    NAME = "Name"
    STATUS = "Status"
    CIVIL_STATUS = "CivilStatus"
    PROTECTION = "Protection"
    CHURCH = "Church"
    CITIZENSHIP = "Citizenship"
    GUARDIANSHIP = "Guardianship"
    PARENTS = "Parents"
    CHILDREN = "Children"
    CUSTODY = "Custody"
    PNR = "Pnr"

    @property
    def key(self) -> str:
        """The snake_case name used in the catalogue and in JSON."""
        return _DOMAIN_KEYS[self]

    @classmethod
    def from_key(cls, key: str) -> Domain:
        """The domain called ``key`` (snake_case); ``KeyError`` if none is."""
        return _DOMAINS_BY_KEY[key]


_DOMAIN_KEYS: dict[Domain, str] = {
    Domain.ADDRESS: "address",
    Domain.NAME: "name",
    Domain.STATUS: "status",
    Domain.CIVIL_STATUS: "civil_status",
    Domain.PROTECTION: "protection",
    Domain.CHURCH: "church",
    Domain.CITIZENSHIP: "citizenship",
    Domain.GUARDIANSHIP: "guardianship",
    Domain.PARENTS: "parents",
    Domain.CHILDREN: "children",
    Domain.CUSTODY: "custody",
    Domain.PNR: "pnr",
}
_DOMAINS_BY_KEY: dict[str, Domain] = {key: domain for domain, key in _DOMAIN_KEYS.items()}

COLLECTION_DOMAINS: frozenset[Domain] = frozenset(
    {Domain.PROTECTION, Domain.GUARDIANSHIP, Domain.CHILDREN, Domain.CUSTODY}
)
"""Domains whose value is a tuple of items rather than one value."""

DomainValue = (
    Address
    | Name
    | PersonStatus
    | CivilStatus
    | Church
    | Citizenship
    | Parents
    | str
    | tuple[Protection, ...]
    | tuple[Guardianship, ...]
    | tuple[Custody, ...]
    | tuple[str, ...]
    | None
)
"""The value of one domain of a snapshot (see :func:`domain_value`)."""


def domain_value(snapshot: Snapshot | None, domain: Domain) -> DomainValue:
    """The part of ``snapshot`` that ``domain`` names.

    Collection domains always give a tuple, empty for no snapshot, so that a
    value survives a trip through Avro (whose arrays cannot be null); other
    domains give None for no snapshot. The PNR domain gives 001 PNRGAELD.
    """
    if snapshot is None:
        return () if domain in COLLECTION_DOMAINS else None
    match domain:
        case Domain.ADDRESS:
            return snapshot.address
        case Domain.NAME:
            return snapshot.name
        case Domain.STATUS:
            return snapshot.status
        case Domain.CIVIL_STATUS:
            return snapshot.civil_status
        case Domain.PROTECTION:
            return snapshot.protections
        case Domain.CHURCH:
            return snapshot.church
        case Domain.CITIZENSHIP:
            return snapshot.citizenship
        case Domain.GUARDIANSHIP:
            return snapshot.guardianship
        case Domain.PARENTS:
            return snapshot.parents
        case Domain.CHILDREN:
            return snapshot.children
        case Domain.CUSTODY:
            return snapshot.custody
        case Domain.PNR:
            return snapshot.current_pnr
