"""The worked examples of cpr-domain.md §8 (copies in tests/fixtures/cpr/)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.cli import main
from cprbroker.core.cpr.parser import parse_records
from cprbroker.core.events.apply import derive_person
from cprbroker.core.events.event import ExtractMeta
from cprbroker.core.events.model import CivilStatus, Domain, PersonStatus, Protection

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cpr"
EXAMPLE_A = FIXTURES / "example-a-move-and-protection.txt"
EXAMPLE_B = FIXTURES / "example-b-death-derived-fragment.txt"


def test_example_a_move_and_protection(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", str(EXAMPLE_A)]) == 0
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = sorted(
        (
            e["type"],
            e["pnr"],
            e["cpr_event_code"],
            e["derived_mark"],
            e["municipality_before"],
            e["municipality_after"],
        )
        for e in events
    )
    assert summary == [
        ("cpr.person.moved", "0701614011", "A01", None, "0851", "0101"),
        ("cpr.person.municipality_changed", "0701614011", "A01", None, "0851", "0101"),
        ("cpr.person.protection_changed", "0707614226", "A33", None, None, None),
    ]
    protection = next(e for e in events if e["type"] == "cpr.person.protection_changed")
    expected = [{"type": "0001", "start": "2024-03-04", "end": "2025-03-04"}]
    assert protection["change"] == {"domain": "protection", "before": [], "after": expected}
    assert protection["active_protections"] == expected
    assert protection["occurred_at"] == "2024-03-04T10:12"
    assert protection["production_date"] == "2024-03-05"
    assert protection["file_id"] == "907001-20240305"
    moved = next(e for e in events if e["type"] == "cpr.person.moved")
    address = moved["snapshot"]["address"]
    assert (address["road_code"], address["house_number"], address["floor"], address["door"]) == (
        "1234",
        "012",
        "03",
        "th",
    )


def test_example_b_death_and_the_widows_derived_event() -> None:
    fragment = parse_records(EXAMPLE_B.read_bytes(), source=EXAMPLE_B.name)
    assert fragment.rejected == []
    meta = ExtractMeta(file_id="907002-20240305", production_date="2024-03-05")
    catalogue = load_catalogue()
    events = [
        event
        for person in fragment.persons
        for event in derive_person(None, person, meta, catalogue).events
    ]
    assert [(e.type, e.pnr, e.cpr_event_code, e.derived_mark) for e in events] == [
        ("cpr.person.died", "0708614327", "A21", None),
        ("cpr.person.civil_status_changed", "0707614226", "A21", "ÆG"),
    ]
    died, widowed = events
    assert died.change is not None
    assert died.change.domain is Domain.STATUS
    assert died.change.after == PersonStatus("90", "2024-03-03T12:00")
    assert widowed.change is not None
    assert widowed.change.after == CivilStatus("E", "0708614327", since="2024-03-03T12:00")
    assert widowed.occurred_at == "2024-03-04T09:15"
    # Both survive the Avro contract unchanged.
    codec = default_codec()
    for event in events:
        assert codec.decode(codec.encode(event)) == event


def test_example_a_protection_is_active_on_its_day() -> None:
    assert Protection("0001", "2024-03-04", "2025-03-04").active_on("2024-03-04")
    assert not Protection("0001", "2024-03-04", "2025-03-04").active_on("2025-03-04")
