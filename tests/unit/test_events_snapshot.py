"""Building a person's Snapshot from parsed records, and its plain-dict form."""

from __future__ import annotations

import dataclasses

import pytest
from test_events_files import PNR_A, PNR_B, person, record

from cprbroker.core.cpr.parser import parse_records
from cprbroker.core.cpr.records import PersonRecords
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import ChangeCode
from cprbroker.core.events.model import (
    Address,
    Church,
    CivilStatus,
    Custody,
    Guardianship,
    Name,
    PersonStatus,
    Protection,
)
from cprbroker.core.events.serial import snapshot_from_dict, snapshot_to_dict
from cprbroker.core.events.snapshot import build_snapshot, change_codes


def _records(lines: list[str]) -> PersonRecords:
    parsed = parse_records(("\n".join(lines) + "\n").encode("latin-1"), source="test")
    assert parsed.rejected == []
    (only,) = parsed.persons
    return only


def test_a_full_record_set_becomes_a_snapshot() -> None:
    lines = person(
        PNR_A,
        floor="03",
        door="th",
        moved_in="202403041536",
        municipality_since="202403041536",
        previous_municipality="0851",
        civil_status="G",
        spouse=PNR_B,
        protections=[("0003", "2020-01-01", ""), ("0001", "2024-03-04", "2025-03-04")],
        children=["0202951234", "0101901234"],
        events=[("A01", "202403041536"), ("A21", "202403040915", "ÆG")],
        extra=[
            record(
                "016",
                {
                    "PNR": PNR_A,
                    "RELTYP-FORAELDREMYN": "0003",
                    "START_DT-FORAELDREMYN": "2000-01-01",
                },
            ),
            record(
                "052",
                {
                    "PNR": PNR_A,
                    "START_DT-UMYNDIG": "2020-01-01",
                    "UMYN_RELTYP": "0002",
                    "RELTXT1": "Advokat Hansen",
                    "VAERGEMAALS_TYPE": "Økonomisk",
                },
            ),
        ],
    )
    snapshot = build_snapshot(_records(lines))
    assert snapshot.pnr == PNR_A
    assert snapshot.status == PersonStatus("01")
    assert (snapshot.sex, snapshot.birth_date, snapshot.occupation) == ("M", "1961-01-07", "Pilot")
    assert snapshot.name == Name("Aksel", None, "Sander", "Sander,Aksel", "1961-01-07T12:00")
    assert snapshot.address == Address(
        municipality="0101",
        road_code="1234",
        house_number="012",
        floor="03",
        door="th",
        moved_in_at="2024-03-04T15:36",
        municipality_moved_in_at="2024-03-04T15:36",
        previous_municipality="0851",
        road_name="Skovvej",
        postcode="1000",
        postal_district="København K",
    )
    assert snapshot.civil_status == CivilStatus("G", spouse_pnr=PNR_B)
    assert snapshot.protections == (
        Protection("0001", "2024-03-04", "2025-03-04"),
        Protection("0003", "2020-01-01", None),
    )
    assert snapshot.church == Church("F", "1961-01-07")
    assert snapshot.citizenship is not None
    assert snapshot.citizenship.country_code == "5100"
    assert snapshot.parents is None  # an empty 015
    assert snapshot.children == ("0101901234", "0202951234")
    assert snapshot.custody == (Custody("0003", "2000-01-01"),)
    assert snapshot.guardianship == (
        Guardianship(
            start="2020-01-01",
            relation_type="0002",
            guardian_lines=("Advokat Hansen",),
            guardianship_type="Økonomisk",
        ),
    )
    assert change_codes(_records(lines)) == [
        ChangeCode("A01", None, "2024-03-04T15:36"),
        ChangeCode("A21", "ÆG", "2024-03-04T09:15"),
    ]


def test_record_order_does_not_matter() -> None:
    lines = person(PNR_A, protections=[("0001", "2024-03-04", ""), ("0002", "2024-01-01", "")])
    assert build_snapshot(_records(lines)) == build_snapshot(_records(lines[::-1]))


def test_records_delivered_once_keep_their_previous_value_when_absent() -> None:
    previous = build_snapshot(_records(person(PNR_A, civil_status="G", spouse=PNR_B, church="U")))
    only_001_and_099 = [
        line
        for line in person(PNR_A, events=[("A33", "202403041012")])
        if line[:3] in ("001", "099")
    ]
    current = build_snapshot(_records(only_001_and_099), previous)
    assert current.civil_status == previous.civil_status
    assert current.church == previous.church
    assert current.name == previous.name
    assert current.citizenship == previous.citizenship
    assert current.address == previous.address  # status 01 without 002: not selected
    assert current.protections == ()  # 0-n records: absent means none


def test_status_30_and_above_has_no_address() -> None:
    previous = build_snapshot(_records(person(PNR_A)))
    dead = build_snapshot(_records(person(PNR_A, status="90")), previous)
    assert dead.status.code == "90"
    assert dead.address is None
    assert dead.name is not None


def test_missing_003_keeps_the_address_text() -> None:
    previous = build_snapshot(_records(person(PNR_A)))
    without_003 = [line for line in person(PNR_A, floor="st") if not line.startswith("003")]
    current = build_snapshot(_records(without_003), previous)
    assert current.address is not None
    assert previous.address is not None
    assert current.address.floor == "st"
    assert current.address.postcode == previous.address.postcode == "1000"


def test_snapshot_dict_round_trip_and_errors() -> None:
    snapshot = build_snapshot(
        _records(person(PNR_A, protections=[("0001", "2024-03-04", "")], children=["0101901234"]))
    )
    data = snapshot_to_dict(snapshot)
    assert data["protections"] == [{"type": "0001", "start": "2024-03-04", "end": None}]
    assert snapshot_from_dict(data) == snapshot
    # Keys a newer writer added are ignored; missing optional keys take defaults.
    newer = {**data, "shoe_size": 44}
    del newer["children"]
    assert snapshot_from_dict(newer) == dataclasses.replace(snapshot, children=())
    with pytest.raises(EventFormatError, match="/status: expected an object"):
        snapshot_from_dict({**data, "status": "01"})
    with pytest.raises(EventFormatError, match="/protections/0/type: required field is missing"):
        snapshot_from_dict({**data, "protections": [{"start": "2024-03-04"}]})
    with pytest.raises(EventFormatError, match="/children: expected an array"):
        snapshot_from_dict({**data, "children": "0101901234"})
