"""Build a person's :class:`Snapshot` from their records in one extract file.

A delta delivers, for each changed person, every selected record type the
person has on the extract date (cpr-domain.md §2.1), so the new snapshot is
the records themselves, with two exceptions that keep a partial selection of
record types from looking like deletions:

- record types CPR delivers exactly once whenever they are selected (003
  address text, 008 name, 010 citizenship, 011 church, 012 civil status,
  015 parents) keep the previous snapshot's value when absent;
- 002 (the address) keeps the previous address when absent while the status
  is below 30, since only persons with status 30 and above lack one.

Record types that occur 0-n times (004, 005, 007, 014, 016, 017/052) mean
"none" when absent: that is how a protection or a custody ends.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable
from typing import Any

from cprbroker.core.cpr.records import PersonRecords, Record
from cprbroker.core.cpr.values import PartialDate, Value
from cprbroker.core.events.event import ChangeCode
from cprbroker.core.events.model import (
    Address,
    Church,
    Citizenship,
    CivilStatus,
    Custody,
    Disappearance,
    Emigration,
    Guardianship,
    Name,
    Parent,
    Parents,
    PersonStatus,
    Protection,
    Snapshot,
)

UNKNOWN_STATUS = "00"
"""Status of a person whose records hold no 001 (a fragment); never in CPR."""


def iso(value: Value) -> str | None:
    """A typed date or timestamp as the event model writes it: ``yyyy-MM-dd``,
    ``yyyy-MM-ddTHH:mm`` (CPR local time), or as much of a partly unknown
    date as is known; None for none."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date | PartialDate):
        return value.isoformat()
    return str(value)


def text(value: Value) -> str | None:
    """A text or code field as a plain string, blank as None."""
    if value is None:
        return None
    if isinstance(value, enum.Enum):
        return str(value.value)
    stripped = str(value).strip()
    return stripped or None


def _lines(record: Record, names: Iterable[str]) -> tuple[str, ...]:
    return tuple(line for line in (text(record[name]) for name in names) if line)


def change_codes(records: PersonRecords) -> list[ChangeCode]:
    """The person's 099 records as change codes, in file order."""
    return [
        ChangeCode(
            code=event.code.strip(),
            mark=str(event.derived_mark.value) if event.derived_mark is not None else None,
            occurred_at=iso(event.timestamp),
        )
        for event in records.events
    ]


def build_snapshot(records: PersonRecords, previous: Snapshot | None = None) -> Snapshot:
    """The person's snapshot after this file (see the module docstring for
    which absent record types keep the ``previous`` value)."""
    info = records.person
    status = (
        PersonStatus(text(info.status) or UNKNOWN_STATUS, iso(info.status_start))
        if info is not None
        else (previous.status if previous is not None else PersonStatus(UNKNOWN_STATUS))
    )
    carried = previous or Snapshot(pnr=records.pnr, status=status)
    first = records.first
    return Snapshot(
        pnr=records.pnr,
        status=status,
        current_pnr=info.current_pnr if info is not None else carried.current_pnr,
        sex=text(info.sex) if info is not None else carried.sex,
        birth_date=iso(info.birth_date) if info is not None else carried.birth_date,
        occupation=text(info.occupation) if info is not None else carried.occupation,
        name=_name(first("008"), first("003"), carried.name),
        address=_address(first("002"), first("003"), status.code, carried.address),
        emigration=_emigration(first("005")),
        disappearance=_disappearance(first("007")),
        civil_status=_civil_status(first("012"), carried.civil_status),
        protections=_protections(records.of_type("004")),
        church=_church(first("011"), carried.church),
        citizenship=_citizenship(first("010"), carried.citizenship),
        parents=_parents(first("015"), carried.parents),
        children=tuple(
            sorted({pnr for r in records.of_type("014") if (pnr := text(r["PNRBARN"]))})
        ),
        custody=_custody(records.of_type("016")),
        guardianship=_guardianship(records.of_type("052") or records.of_type("017")),
    )


def _name(record: Record | None, text_record: Record | None, carried: Name | None) -> Name | None:
    if record is not None:
        return Name(
            first_names=text(record["FORNVN"]),
            middle_name=text(record["MELNVN"]),
            last_name=text(record["EFTERNVN"]),
            addressing_name=text(record["ADRNVN"]),
            since=iso(record["NVNHAENSTART"]),
        )
    if carried is not None:
        return carried
    if text_record is not None and text(text_record["ADRNVN"]):
        return Name(addressing_name=text(text_record["ADRNVN"]))
    return None


def _address(
    record: Record | None, text_record: Record | None, status: str, carried: Address | None
) -> Address | None:
    location: dict[str, Any]
    if record is not None:
        location = {
            **_place(record),
            "moved_in_at": iso(record["TILFLYDTO"]),
            "municipality_moved_in_at": iso(record["TILFLYKOMDTO"]),
            "previous_municipality": _municipality(record["FRAFLYKOMKOD"]),
            "previous_municipality_left_at": iso(record["FRAFLYKOMDTO"]),
            "co_name": text(record["CONVN"]),
            "supplementary_lines": _lines(record, (f"ADR{i}-SUPLADR" for i in range(1, 6))),
        }
    elif text_record is not None and text(text_record["KOMKOD"]):
        location = _place(text_record)
    elif status < "30" and carried is not None:
        return carried  # 002 not selected in this extract: keep what we know
    else:
        return None
    # One Address built once (a frozen dataclass costs a call per field to build).
    if text_record is not None:
        location.update(_address_text(location.get("co_name"), text_record))
        return Address(**location)
    if carried is not None:
        # 003 not delivered: keep the printable text we know.
        return Address(
            **location,
            road_name=carried.road_name,
            locality=carried.locality,
            standard_address=carried.standard_address,
            city=carried.city,
            postcode=carried.postcode,
            postal_district=carried.postal_district,
        )
    return Address(**location)


def _place(record: Record) -> dict[str, Any]:
    """Municipality, road and the door of an address: fields 002 and 003 share."""
    return {
        "municipality": text(record["KOMKOD"]),
        "road_code": text(record["VEJKOD"]),
        "house_number": text(record["HUSNR"]),
        "floor": text(record["ETAGE"]),
        "door": text(record["SIDEDOER"]),
        "building_number": text(record["BNR"]),
    }


def _address_text(co_name: str | None, record: Record) -> dict[str, Any]:
    """The 003 text fields of an address (c/o from 002 when it has one)."""
    return {
        "co_name": co_name or text(record["CONVN"]),
        "road_name": text(record["VEJADRNVN"]),
        "locality": text(record["LOKALITET"]),
        "standard_address": text(record["STANDARDADR"]),
        "city": text(record["BYNVN"]),
        "postcode": text(record["POSTNR"]),
        "postal_district": text(record["POSTDISTTXT"]),
    }


def _municipality(value: Value) -> str | None:
    code = text(value)
    return None if code is None or code == "0000" else code


def _emigration(record: Record | None) -> Emigration | None:
    if record is None:
        return None
    return Emigration(
        country_code=text(record["UDR_LANDEKOD"]),
        departed_at=iso(record["UDRDTO"]),
        foreign_address_lines=_lines(record, (f"UDLANDADR{i}" for i in range(1, 6))),
    )


def _disappearance(record: Record | None) -> Disappearance | None:
    return None if record is None else Disappearance(iso(record["FORSVINDDTO"]))


def _civil_status(record: Record | None, carried: CivilStatus | None) -> CivilStatus | None:
    if record is None:
        return carried
    code = text(record["CIVST"])
    if code is None:
        return None
    return CivilStatus(
        code=code,
        spouse_pnr=text(record["AEGTEPNR"]),
        spouse_birth_date=iso(record["AEGTEFOED_DT"]),
        spouse_name=text(record["AEGTENVN"]),
        since=iso(record["HAENSTART-CIVILSTAND"]),
    )


def _protections(records: list[Record]) -> tuple[Protection, ...]:
    found = {
        Protection(
            type=text(r["BESKYTTYPE"]) or "",
            start=iso(r["START_DT-BESKYTTELSE"]),
            end=iso(r["SLET_DT-BESKYTTELSE"]),
        )
        for r in records
    }
    return tuple(sorted(found, key=lambda p: (p.type, p.start or "", p.end or "")))


def _church(record: Record | None, carried: Church | None) -> Church | None:
    if record is None:
        return carried
    code = text(record["FKIRK"])
    return None if code is None else Church(code, iso(record["START_DT-FOLKEKIRKE"]))


def _citizenship(record: Record | None, carried: Citizenship | None) -> Citizenship | None:
    if record is None:
        return carried
    code = text(record["LANDEKOD"])
    return None if code is None else Citizenship(code, iso(record["HAENSTART-STATSBORGERSKAB"]))


def _parent(record: Record, prefix: str, pnr_field: str) -> Parent | None:
    parent = Parent(
        pnr=text(record[pnr_field]),
        birth_date=iso(record[f"{prefix}_FOED_DT"]),
        name=text(record[f"{prefix}NVN"]),
        since=iso(record[f"{prefix}_DT"]),
    )
    return None if parent == Parent() else parent


def _parents(record: Record | None, carried: Parents | None) -> Parents | None:
    if record is None:
        return carried
    parents = Parents(
        mother=_parent(record, "MOR", "PNRMOR"), father=_parent(record, "FAR", "PNRFAR")
    )
    return None if parents == Parents() else parents


def _custody(records: list[Record]) -> tuple[Custody, ...]:
    found = {
        Custody(
            relation_type=text(r["RELTYP-FORAELDREMYN"]) or "",
            start=iso(r["START_DT-FORAELDREMYN"]),
            end=iso(r["SLET_DT-FORAELDREMYN"]),
            holder_pnr=text(r["RELPNR"]),
        )
        for r in records
    }
    return tuple(sorted(found, key=lambda c: (c.relation_type, c.holder_pnr or "", c.start or "")))


def _guardianship(records: list[Record]) -> tuple[Guardianship, ...]:
    found = {
        Guardianship(
            start=iso(r["START_DT-UMYNDIG"]),
            end=iso(r["SLET_DT-UMYNDIG"]),
            relation_type=text(r["UMYN_RELTYP"]),
            guardian_pnr=text(r["RELPNR"]),
            guardian_lines=_lines(
                r, ("RELADRSAT_RELPNR_TXT", *(f"RELTXT{i}" for i in range(1, 6)))
            ),
            guardianship_type=text(r.get("VAERGEMAALS_TYPE")),
        )
        for r in records
    }
    return tuple(sorted(found, key=lambda g: (g.start or "", g.guardian_pnr or "")))
