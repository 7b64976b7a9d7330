"""Typed views of the records a broker works with most: 001, 002, 004, 008,
012 and 099. Each is a frozen dataclass built from a parsed record; field
names are English, the CPR field each comes from is in its docstring.

Dates CPR only partly knows are :class:`~cprbroker.core.cpr.values.PartialDate`;
timestamps are naive ``datetime`` in CPR's local (Danish) time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from cprbroker.core.cpr.codes import CivilStatus, DerivedMark, ProtectionType, Sex, Status
from cprbroker.core.cpr.values import PartialDate

if TYPE_CHECKING:
    from cprbroker.core.cpr.records import Record

Date = dt.date | PartialDate | None
Timestamp = dt.datetime | PartialDate | None


def _str(record: Record, name: str) -> str:
    return cast(str, record[name])


def _opt(record: Record, name: str) -> str | None:
    return cast("str | None", record[name])


def _date(record: Record, name: str) -> Date:
    return cast(Date, record[name])


def _ts(record: Record, name: str) -> Timestamp:
    return cast(Timestamp, record[name])


@dataclass(frozen=True, slots=True)
class Event:
    """A 099 record: one CPR event (hændelse) of this person."""

    pnr: str = field(repr=False)
    timestamp: Timestamp
    """TIMESTAMPU: when the register was updated."""
    code: str
    """HAENDELSE, e.g. ``A01``."""
    derived_mark: DerivedMark | None
    """AFLEDTMRK; ``None`` when this person is the event's main person."""
    key_constant: str
    """NGLKONST (usually blank)."""
    line: int

    @classmethod
    def from_record(cls, record: Record) -> Event:
        """Read a 099 record."""
        return cls(
            pnr=record.pnr,
            timestamp=_ts(record, "TIMESTAMPU"),
            code=_str(record, "HAENDELSE"),
            derived_mark=cast("DerivedMark | None", record["AFLEDTMRK"]),
            key_constant=_str(record, "NGLKONST"),
            line=record.line,
        )

    @property
    def is_derived(self) -> bool:
        """Whether the event happened to a related person, not to this one."""
        return self.derived_mark is not None


@dataclass(frozen=True, slots=True)
class PersonInfo:
    """A 001 record: status, sex, birth date, current PNR."""

    pnr: str = field(repr=False)
    current_pnr: str | None
    """PNRGAELD: the number now in force if this one was changed, else ``None``."""
    status: Status | None
    status_start: Timestamp
    sex: Sex | None
    birth_date: Date
    birth_date_uncertain: bool
    start_date: Date
    end_date: Date
    occupation: str
    """STILLING."""

    @classmethod
    def from_record(cls, record: Record) -> PersonInfo:
        """Read a 001 record."""
        return cls(
            pnr=record.pnr,
            current_pnr=_opt(record, "PNRGAELD"),
            status=cast("Status | None", record["STATUS"]),
            status_start=_ts(record, "STATUSHAENSTART"),
            sex=cast("Sex | None", record["KOEN"]),
            birth_date=_date(record, "FOED_DT"),
            birth_date_uncertain=record["FOED_DT_UMRK"] is not None,
            start_date=_date(record, "START_DT-PERSON"),
            end_date=_date(record, "SLUT_DT-PERSON"),
            occupation=_str(record, "STILLING"),
        )


@dataclass(frozen=True, slots=True)
class Address:
    """A 002 record: the current address and the municipality moved from."""

    pnr: str = field(repr=False)
    municipality_code: str | None
    """KOMKOD, four digits."""
    road_code: str | None
    house_number: str
    floor: str
    door: str
    building_number: str
    care_of: str
    moved_in: Timestamp
    """TILFLYDTO."""
    moved_into_municipality: Timestamp
    """TILFLYKOMDTO."""
    previous_municipality_code: str | None
    """FRAFLYKOMKOD: the municipality the person moved from."""
    left_previous_municipality: Timestamp
    """FRAFLYKOMDTO."""
    home_authority: str | None
    """START_MYNKOD-ADRTXT."""
    supplementary_lines: tuple[str, ...]
    """ADR1..5-SUPLADR, blank lines dropped."""

    @classmethod
    def from_record(cls, record: Record) -> Address:
        """Read a 002 record. House number, floor and door keep leading spaces
        (SIDEDOER is right-aligned, e.g. ``"  th"``) but lose trailing ones."""
        lines = tuple(_str(record, f"ADR{i}-SUPLADR") for i in range(1, 6))
        return cls(
            pnr=record.pnr,
            municipality_code=_opt(record, "KOMKOD"),
            road_code=_opt(record, "VEJKOD"),
            house_number=_str(record, "HUSNR"),
            floor=_str(record, "ETAGE"),
            door=_str(record, "SIDEDOER"),
            building_number=_str(record, "BNR"),
            care_of=_str(record, "CONVN"),
            moved_in=_ts(record, "TILFLYDTO"),
            moved_into_municipality=_ts(record, "TILFLYKOMDTO"),
            previous_municipality_code=_opt(record, "FRAFLYKOMKOD"),
            left_previous_municipality=_ts(record, "FRAFLYKOMDTO"),
            home_authority=_opt(record, "START_MYNKOD-ADRTXT"),
            supplementary_lines=tuple(line for line in lines if line),
        )


@dataclass(frozen=True, slots=True)
class Protection:
    """A 004 record: one protection (name/address, local directory, ...)."""

    pnr: str = field(repr=False)
    protection_type: ProtectionType | None
    start_date: Date
    end_date: Date
    """SLET_DT-BESKYTTELSE: when the protection is to be removed."""

    @classmethod
    def from_record(cls, record: Record) -> Protection:
        """Read a 004 record."""
        return cls(
            pnr=record.pnr,
            protection_type=cast("ProtectionType | None", record["BESKYTTYPE"]),
            start_date=_date(record, "START_DT-BESKYTTELSE"),
            end_date=_date(record, "SLET_DT-BESKYTTELSE"),
        )


@dataclass(frozen=True, slots=True)
class Name:
    """An 008 record: the current name and addressing name."""

    pnr: str = field(repr=False)
    first_names: str
    middle_name: str
    last_name: str
    addressing_name: str
    """ADRNVN, the name as used on letters."""
    start: Timestamp
    """NVNHAENSTART."""

    @classmethod
    def from_record(cls, record: Record) -> Name:
        """Read an 008 record."""
        return cls(
            pnr=record.pnr,
            first_names=_str(record, "FORNVN"),
            middle_name=_str(record, "MELNVN"),
            last_name=_str(record, "EFTERNVN"),
            addressing_name=_str(record, "ADRNVN"),
            start=_ts(record, "NVNHAENSTART"),
        )


@dataclass(frozen=True, slots=True)
class CivilStatusEntry:
    """A 012 record: the current civil status and spouse."""

    pnr: str = field(repr=False)
    civil_status: CivilStatus | None
    spouse_pnr: str | None
    """AEGTEPNR; when filled, the spouse's birth date and name are blank."""
    spouse_birth_date: Date
    spouse_name: str
    start: Timestamp
    """HAENSTART-CIVILSTAND."""
    separation_reference: Timestamp
    """SEP_HENVIS-CIVILSTAND."""

    @classmethod
    def from_record(cls, record: Record) -> CivilStatusEntry:
        """Read a 012 record."""
        return cls(
            pnr=record.pnr,
            civil_status=cast("CivilStatus | None", record["CIVST"]),
            spouse_pnr=_opt(record, "AEGTEPNR"),
            spouse_birth_date=_date(record, "AEGTEFOED_DT"),
            spouse_name=_str(record, "AEGTENVN"),
            start=_ts(record, "HAENSTART-CIVILSTAND"),
            separation_reference=_ts(record, "SEP_HENVIS-CIVILSTAND"),
        )
