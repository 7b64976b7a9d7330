"""The synthetic person as the generator keeps it, and the places people live.

A :class:`Person` holds exactly what its CPR records say, as raw record
strings (timestamps ``yyyyMMddHHmm``, dates ``yyyy-MM-dd``, codes as digits),
so that turning it into records is copying, not converting. Relations are by
PNR: spouse (012), children (014), mother and father (015), custody (016).

People in one household share one :class:`Dwelling` object, which knows its
residents; a move gives the movers a new dwelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NO_TIMESTAMP = "000000000000"
"""CPR's "no timestamp" value."""


@dataclass(frozen=True, slots=True)
class Road:
    """A road of one municipality: road code (VEJKOD), name, postcode."""

    municipality: str
    code: str
    name: str
    postcode: str
    district: str

    @property
    def addressing_name(self) -> str:
        """The road's addressing name (VEJADRNVN, at most 20 characters)."""
        return self.name[:20]


@dataclass(slots=True, eq=False)
class Dwelling:
    """One dwelling: a house number on a road, with floor and door for flats.

    ``residents`` lists the PNRs of the people registered there, in the order
    they moved in.
    """

    road: Road
    house_number: str
    """HUSNR: three digits and a letter or space, e.g. ``"012 "``, ``"007B"``."""
    floor: str = ""
    """ETAGE: ``"st"``, ``"01"``... or blank for a house."""
    door: str = ""
    """SIDEDOER, right-aligned in 4: ``"  th"``, ``"  tv"``, ``"  mf"`` or blank."""
    residents: list[str] = field(default_factory=list)

    @property
    def municipality(self) -> str:
        """The municipality code (KOMKOD)."""
        return self.road.municipality

    @property
    def standard_address(self) -> str:
        """The printable one-line address, e.g. ``"Skovvej 12A, 2. th"``."""
        number = str(int(self.house_number[:3])) + self.house_number[3:].strip()
        text = f"{self.road.name} {number}"
        if self.floor:
            floor = "st." if self.floor == "st" else f"{int(self.floor)}."
            text = f"{text}, {floor} {self.door.strip()}".rstrip()
        return text[:34]


@dataclass(frozen=True, slots=True)
class Protection:
    """One 004 record: protection type and its start and end dates."""

    type: str
    start: str
    end: str


@dataclass(frozen=True, slots=True)
class ParentRef:
    """One parent as record 015 gives it: by PNR, or by birth date and name
    when the parent has no PNR in the population."""

    since: str
    pnr: str = ""
    birth_date: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Custody:
    """One 016 record: who holds custody of a minor (0003 mother, 0004 father)."""

    relation_type: str
    holder_pnr: str
    start: str


@dataclass(frozen=True, slots=True)
class Departure:
    """One 005 record: where and when the person emigrated."""

    country: str
    departed_at: str
    lines: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FormerPnr:
    """One 022 record: a PNR the person had before, and its validity."""

    pnr: str
    start: str
    end: str


@dataclass(slots=True, eq=False)
class Person:
    """One synthetic person, field by field as their CPR records hold it."""

    pnr: str
    male: bool
    birth_date: str
    first_names: str
    last_name: str
    middle_name: str = ""
    name_since: str = NO_TIMESTAMP
    status: str = "01"
    status_since: str = NO_TIMESTAMP
    current_pnr: str = ""
    occupation: str = ""
    dwelling: Dwelling | None = None
    moved_in: str = NO_TIMESTAMP
    municipality_since: str = NO_TIMESTAMP
    previous_municipality: str = ""
    previous_municipality_left: str = ""
    protections: tuple[Protection, ...] = ()
    departure: Departure | None = None
    disappeared_at: str = ""
    birthplace_code: str = ""
    birthplace_text: str = ""
    citizenship: str = "5100"
    citizenship_since: str = NO_TIMESTAMP
    church: str = "F"
    church_since: str = ""
    civil_status: str = "U"
    spouse_pnr: str = ""
    spouse_birth_date: str = ""
    spouse_name: str = ""
    civil_since: str = NO_TIMESTAMP
    children: list[str] = field(default_factory=list)
    mother: ParentRef | None = None
    father: ParentRef | None = None
    custody: tuple[Custody, ...] = ()
    former_pnr: FormerPnr | None = None

    @property
    def sex(self) -> str:
        """KOEN: M or K."""
        return "M" if self.male else "K"

    @property
    def is_resident(self) -> bool:
        """Whether the person is active with a Danish address (status below 30)."""
        return self.status < "30" and self.dwelling is not None

    @property
    def municipality(self) -> str | None:
        """The municipality code of the current address, if any."""
        return self.dwelling.road.municipality if self.dwelling is not None else None

    @property
    def addressing_name(self) -> str:
        """ADRNVN, "Last,First Middle" in at most 34 characters; long first
        names are shortened to initials first, as CPR abbreviates."""
        given = f"{self.first_names} {self.middle_name}".strip()
        name = f"{self.last_name},{given}"
        if len(name) > 34:
            initials = " ".join(part[0] + "." for part in given.split())
            name = f"{self.last_name},{initials}"
        return name[:34]

    def age_on(self, day: str) -> int:
        """Age in whole years on ``day`` (``yyyy-MM-dd``)."""
        years = int(day[:4]) - int(self.birth_date[:4])
        if day[5:] < self.birth_date[5:]:
            years -= 1
        return years
