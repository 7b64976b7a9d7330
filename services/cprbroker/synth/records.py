"""A synthetic person as CPR records: record type plus raw field values, with
the field names of :data:`cprbroker.core.cpr.layouts.LAYOUTS`.

Which records a person has follows the extract description (cpr-domain.md
§2.1-2.3): 002 only while the status is below 30, and for status 30 and above
003 holds only the addressing name; 004 per protection, 005 while emigrated,
007 while disappeared, 014 per child, 016 per custody holder, 022 per former
PNR. 001, 008-012 and 015 are always there.
"""

from __future__ import annotations

from cprbroker.synth.person import NO_TIMESTAMP, Person

Record = tuple[str, dict[str, str]]
"""One record: its three-digit type and its field values by field name."""


def person_records(p: Person) -> list[Record]:
    """All current records of ``p`` in record-type order (no 099 events)."""
    pnr = p.pnr
    records: list[Record] = [
        (
            "001",
            {
                "PNR": pnr,
                "PNRGAELD": p.current_pnr,
                "STATUS": p.status,
                "STATUSHAENSTART": p.status_since,
                "KOEN": p.sex,
                "FOED_DT": p.birth_date,
                "START_DT-PERSON": p.former_pnr.end if p.former_pnr else p.birth_date,
                "STILLING": p.occupation,
            },
        )
    ]
    dwelling = p.dwelling if p.status < "30" else None
    if dwelling is not None:
        road = dwelling.road
        records.append(
            (
                "002",
                {
                    "PNR": pnr,
                    "KOMKOD": road.municipality,
                    "VEJKOD": road.code,
                    "HUSNR": dwelling.house_number,
                    "ETAGE": dwelling.floor,
                    "SIDEDOER": dwelling.door,
                    "TILFLYDTO": p.moved_in,
                    "TILFLYKOMDTO": p.municipality_since,
                    "FRAFLYKOMKOD": p.previous_municipality,
                    "FRAFLYKOMDTO": p.previous_municipality_left,
                    "START_MYNKOD-ADRTXT": "0000",
                },
            )
        )
        records.append(
            (
                "003",
                {
                    "PNR": pnr,
                    "ADRNVN": p.addressing_name,
                    "STANDARDADR": dwelling.standard_address,
                    "POSTNR": road.postcode,
                    "POSTDISTTXT": road.district,
                    "KOMKOD": road.municipality,
                    "VEJKOD": road.code,
                    "HUSNR": dwelling.house_number,
                    "ETAGE": dwelling.floor,
                    "SIDEDOER": dwelling.door,
                    "VEJADRNVN": road.addressing_name,
                },
            )
        )
    else:
        records.append(("003", {"PNR": pnr, "ADRNVN": p.addressing_name}))
    records.extend(
        (
            "004",
            {
                "PNR": pnr,
                "BESKYTTYPE": protection.type,
                "START_DT-BESKYTTELSE": protection.start,
                "SLET_DT-BESKYTTELSE": protection.end,
            },
        )
        for protection in p.protections
    )
    if p.departure is not None:
        departure = p.departure
        values = {
            "PNR": pnr,
            "UDR_LANDEKOD": departure.country,
            "UDRDTO": departure.departed_at,
        }
        for i, line in enumerate(departure.lines, start=1):
            values[f"UDLANDADR{i}"] = line
        records.append(("005", values))
    if p.disappeared_at:
        records.append(("007", {"PNR": pnr, "FORSVINDDTO": p.disappeared_at}))
    records.append(
        (
            "008",
            {
                "PNR": pnr,
                "FORNVN": p.first_names,
                "MELNVN": p.middle_name,
                "EFTERNVN": p.last_name,
                "NVNHAENSTART": p.name_since,
                "ADRNVN": p.addressing_name,
            },
        )
    )
    records.append(
        (
            "009",
            {
                "PNR": pnr,
                "START_MYNKOD-FOEDESTED": p.birthplace_code,
                "MYNTXT-FOEDESTED": p.birthplace_text,
            },
        )
    )
    records.append(
        (
            "010",
            {
                "PNR": pnr,
                "LANDEKOD": p.citizenship,
                "HAENSTART-STATSBORGERSKAB": p.citizenship_since,
            },
        )
    )
    records.append(("011", {"PNR": pnr, "FKIRK": p.church, "START_DT-FOLKEKIRKE": p.church_since}))
    records.append(
        (
            "012",
            {
                "PNR": pnr,
                "CIVST": p.civil_status,
                "AEGTEPNR": p.spouse_pnr,
                "AEGTEFOED_DT": p.spouse_birth_date,
                "AEGTENVN": p.spouse_name,
                "HAENSTART-CIVILSTAND": p.civil_since,
            },
        )
    )
    records.extend(("014", {"PNR": pnr, "PNRBARN": child}) for child in p.children)
    parents = {"PNR": pnr}
    if p.mother is not None:
        parents |= {
            "MOR_DT": p.mother.since,
            "PNRMOR": p.mother.pnr,
            "MOR_FOED_DT": p.mother.birth_date,
            "MORNVN": p.mother.name,
        }
    if p.father is not None:
        parents |= {
            "FAR_DT": p.father.since,
            "PNRFAR": p.father.pnr,
            "FAR_FOED_DT": p.father.birth_date,
            "FARNVN": p.father.name,
        }
    records.append(("015", parents))
    records.extend(
        (
            "016",
            {
                "PNR": pnr,
                "RELTYP-FORAELDREMYN": custody.relation_type,
                "START_DT-FORAELDREMYN": custody.start,
                "RELPNR": custody.holder_pnr,
                "START_DT-RELPNR_PNR": custody.start,
            },
        )
        for custody in p.custody
    )
    if p.former_pnr is not None:
        former = p.former_pnr
        records.append(
            (
                "022",
                {
                    "PNR": pnr,
                    "HISTPNR": former.pnr,
                    "START_DT-PERSON": former.start,
                    "SLUT_DT-PERSON": former.end,
                },
            )
        )
    return records


def event_record(pnr: str, timestamp: str, code: str, mark: str = "") -> Record:
    """A 099 record: ``code`` happened to ``pnr`` at ``timestamp``; ``mark`` is
    the derived mark (blank for the event's main person)."""
    return (
        "099",
        {"PNR": pnr, "TIMESTAMPU": timestamp, "HAENDELSE": code, "AFLEDTMRK": mark},
    )


def start_record(task_number: str, production_date: str, previous_date: str) -> Record:
    """The 000 start record; dates are ``yyyyMMdd``."""
    return (
        "000",
        {
            "SORTFELT-10": "0000000000",
            "OPGAVENR": task_number,
            "PRODDTO": production_date,
            "PRODDTOFORRIG": previous_date,
        },
    )


def end_record(data_records: int) -> Record:
    """The 999 end record with the count of data records (not 000/999)."""
    return ("999", {"SORTFELT-10": "9999999999", "TAELLER": f"{data_records:08d}"})


__all__ = ["NO_TIMESTAMP", "Record", "end_record", "event_record", "person_records", "start_record"]
