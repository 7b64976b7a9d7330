"""Deriving business events from a previous and a new snapshot plus the 099
change codes, under the default catalogue."""

from __future__ import annotations

import dataclasses

import pytest

from cprbroker.adapters.event_catalogue import default_catalogue_text, load_catalogue
from cprbroker.core.events.catalogue import Catalogue, parse_catalogue
from cprbroker.core.events.derive import derive_events
from cprbroker.core.events.event import BusinessEvent, ChangeCode, ExtractMeta, event_id
from cprbroker.core.events.model import (
    Address,
    Church,
    Citizenship,
    CivilStatus,
    Domain,
    Name,
    Parent,
    Parents,
    PersonStatus,
    Protection,
    Snapshot,
)

PNR = "0101611234"
META = ExtractMeta(file_id="907001-20240305", production_date="2024-03-05", task_number="907001")

HOME = Address(
    municipality="0101",
    road_code="1234",
    house_number="012",
    moved_in_at="2000-01-01T12:00",
    municipality_moved_in_at="2000-01-01T12:00",
    previous_municipality="0851",
    postcode="1000",
    city="København",
)
BEFORE = Snapshot(
    pnr=PNR,
    status=PersonStatus("01"),
    sex="M",
    birth_date="1961-01-01",
    name=Name("Aksel", None, "Sander", "Sander,Aksel"),
    address=HOME,
    civil_status=CivilStatus("U"),
    church=Church("F"),
    citizenship=Citizenship("5100"),
)


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def _derive(
    catalogue: Catalogue,
    after: Snapshot,
    *codes: ChangeCode,
    before: Snapshot | None = BEFORE,
) -> list[BusinessEvent]:
    return derive_events(before, after, list(codes), META, catalogue)


def _summary(events: list[BusinessEvent]) -> list[tuple[object, ...]]:
    return [
        (e.type, e.cpr_event_code, e.derived_mark, e.municipality_before, e.municipality_after)
        for e in events
    ]


def test_no_change_and_no_code_gives_nothing(catalogue: Catalogue) -> None:
    assert _derive(catalogue, BEFORE) == []


def test_a_move_to_another_municipality_by_code(catalogue: Catalogue) -> None:
    after = dataclasses.replace(
        BEFORE, address=dataclasses.replace(HOME, municipality="0147", road_code="0042")
    )
    events = _derive(catalogue, after, ChangeCode("A01", None, "2024-03-04T15:36"))
    assert _summary(events) == [
        ("cpr.person.moved", "A01", None, "0101", "0147"),
        ("cpr.person.municipality_changed", "A01", None, "0101", "0147"),
    ]
    moved = events[0]
    assert moved.change is not None
    assert moved.change.domain is Domain.ADDRESS
    assert moved.change.before == HOME
    assert moved.change.after == after.address
    assert moved.occurred_at == "2024-03-04T15:36"
    assert moved.snapshot == after


def test_a_move_within_the_municipality_found_in_the_data(catalogue: Catalogue) -> None:
    after = dataclasses.replace(BEFORE, address=dataclasses.replace(HOME, floor="st", door="tv"))
    assert _summary(_derive(catalogue, after)) == [("cpr.person.moved", None, None, "0101", "0101")]


def test_code_and_data_of_the_same_type_are_one_event(catalogue: Catalogue) -> None:
    after = dataclasses.replace(BEFORE, name=Name("Aksel", "Bo", "Sander", "Sander,Aksel Bo"))
    events = _derive(catalogue, after, ChangeCode("A13", None, "2024-03-04T10:00"))
    assert _summary(events) == [("cpr.person.name_changed", "A13", None, "0101", "0101")]
    assert events[0].change is not None
    assert events[0].change.before == BEFORE.name
    assert events[0].change.after == after.name


def test_address_text_without_a_move_is_address_changed(catalogue: Catalogue) -> None:
    after = dataclasses.replace(BEFORE, address=dataclasses.replace(HOME, city="Kbh."))
    assert [e.type for e in _derive(catalogue, after)] == ["cpr.person.address_changed"]


@pytest.mark.parametrize(
    ("before_status", "after_status", "expected"),
    [
        ("01", "90", "cpr.person.died"),
        ("01", "80", "cpr.person.emigrated"),
        ("80", "01", "cpr.person.immigrated"),
        ("01", "70", "cpr.person.disappeared"),
        ("70", "01", "cpr.person.reappeared"),
    ],
)
def test_status_transitions_found_in_the_data(
    catalogue: Catalogue, before_status: str, after_status: str, expected: str
) -> None:
    before = dataclasses.replace(BEFORE, status=PersonStatus(before_status))
    after = dataclasses.replace(BEFORE, status=PersonStatus(after_status, "2024-03-03T12:00"))
    events = _derive(catalogue, after, before=before)
    assert [e.type for e in events] == [expected]
    assert events[0].change is not None
    assert events[0].change.domain is Domain.STATUS
    assert events[0].change.after == PersonStatus(after_status, "2024-03-03T12:00")


def test_death_with_the_address_gone_is_died_only(catalogue: Catalogue) -> None:
    after = dataclasses.replace(BEFORE, status=PersonStatus("90"), address=None)
    events = _derive(catalogue, after, ChangeCode("A21", None, "2024-03-04T09:15"))
    assert _summary(events) == [("cpr.person.died", "A21", None, "0101", None)]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"civil_status": CivilStatus("G", "0707614226")}, "cpr.person.civil_status_changed"),
        ({"protections": (Protection("0001", "2024-03-04"),)}, "cpr.person.protection_changed"),
        ({"church": Church("U")}, "cpr.person.church_membership_changed"),
        ({"citizenship": Citizenship("5180")}, "cpr.person.citizenship_changed"),
        ({"parents": Parents(mother=Parent(pnr="0101401234"))}, "cpr.person.parents_changed"),
        ({"children": ("0101901234",)}, "cpr.person.children_changed"),
        ({"current_pnr": "0101611235"}, "cpr.person.pnr_changed"),
    ],
)
def test_domain_changes_found_in_the_data(
    catalogue: Catalogue, change: dict[str, object], expected: str
) -> None:
    after = dataclasses.replace(BEFORE, **change)  # type: ignore[arg-type]
    events = _derive(catalogue, after)
    assert [e.type for e in events] == [expected]
    assert events[0].cpr_event_code is None
    assert events[0].occurred_at is None


def test_without_a_previous_snapshot_only_codes_count(catalogue: Catalogue) -> None:
    moved_in = dataclasses.replace(
        HOME, moved_in_at="2024-03-04T15:36", municipality_moved_in_at="2024-03-04T15:36"
    )
    after = dataclasses.replace(BEFORE, address=moved_in, civil_status=CivilStatus("G"))
    events = _derive(catalogue, after, ChangeCode("A01", None, "2024-03-04T15:36"), before=None)
    assert _summary(events) == [
        ("cpr.person.moved", "A01", None, "0851", "0101"),
        ("cpr.person.municipality_changed", "A01", None, "0851", "0101"),
    ]
    assert events[0].change is not None
    assert events[0].change.before is None


def test_without_a_previous_snapshot_a_move_within_the_municipality_keeps_it(
    catalogue: Catalogue,
) -> None:
    # Moved to a new address in March 2024, into the municipality in 2000:
    # FRAFLYKOMKOD is about the older move, so the municipality did not change.
    moved = dataclasses.replace(HOME, moved_in_at="2024-03-04T15:36")
    after = dataclasses.replace(BEFORE, address=moved)
    events = _derive(catalogue, after, ChangeCode("A01", None, "2024-03-04T15:36"), before=None)
    assert _summary(events) == [("cpr.person.moved", "A01", None, "0101", "0101")]


def test_without_a_previous_snapshot_other_events_use_the_current_municipality(
    catalogue: Catalogue,
) -> None:
    events = _derive(catalogue, BEFORE, ChangeCode("A33", None, None), before=None)
    assert _summary(events) == [("cpr.person.protection_changed", "A33", None, "0101", "0101")]


def test_derived_mark_and_code_variants(catalogue: Catalogue) -> None:
    widow = dataclasses.replace(BEFORE, civil_status=CivilStatus("E", "0708614327"))
    events = _derive(
        catalogue,
        widow,
        ChangeCode("A21", "ÆG", "2024-03-04T09:15"),
        ChangeCode("A21", "MO", "2024-03-04T09:15"),
        ChangeCode("A45", None, "2024-03-04T09:15"),
        ChangeCode("A08", None, "2024-03-04T09:15"),
    )
    assert _summary(events) == [
        ("cpr.person.civil_status_changed", "A21", "ÆG", "0101", "0101"),
        ("cpr.person.changed", "A21", "MO", "0101", "0101"),
        ("cpr.person.changed", "A08", None, "0101", "0101"),
    ]
    assert events[1].change is None


def test_ids_are_deterministic_and_distinct(catalogue: Catalogue) -> None:
    after = dataclasses.replace(BEFORE, name=Name("Aksel", "Bo", "Sander"))
    codes = (ChangeCode("A13", None, "2024-03-04T10:00"), ChangeCode("A21", "MO", None))
    first = _derive(catalogue, after, *codes)
    again = _derive(catalogue, after, *codes)
    assert [e.id for e in first] == [e.id for e in again]
    assert len({e.id for e in first}) == len(first) == 2
    assert first[0].id == event_id(META.file_id, PNR, "cpr.person.name_changed", "A13", None)
    other_file = dataclasses.replace(META, file_id="907001-20240306")
    assert derive_events(BEFORE, after, list(codes), other_file, catalogue)[0].id != first[0].id
    assert event_id("f", PNR, "t", "A21", "ÆG") != event_id("f", PNR, "t", "A21", "PA")
    assert event_id("f", PNR, "t", "A21", "") == event_id("f", PNR, "t", "A21", None)


def test_a_repeated_code_gives_one_event(catalogue: Catalogue) -> None:
    events = _derive(
        catalogue,
        BEFORE,
        ChangeCode("A33", None, "2024-03-04T10:00"),
        ChangeCode("A33", None, "2024-03-04T11:00"),
    )
    assert [e.type for e in events] == ["cpr.person.protection_changed"]


def test_active_protections_on_the_event_day(catalogue: Catalogue) -> None:
    after = dataclasses.replace(
        BEFORE,
        protections=(
            Protection("0001", "2024-03-04", "2025-03-04"),
            Protection("0003", "2020-01-01", "2024-03-04"),
            Protection("0002", "2024-06-01", None),
        ),
    )
    events = _derive(catalogue, after, ChangeCode("A33", None, "2024-03-04T10:12"))
    assert events[0].active_protections == (Protection("0001", "2024-03-04", "2025-03-04"),)
    undated = _derive(catalogue, after, ChangeCode("A33", None, None))
    assert undated[0].event_date == META.production_date


def test_an_operator_catalogue_changes_the_result() -> None:
    text = default_catalogue_text().replace(
        'type = "cpr.person.died"\ndomain = "status"\ncodes = ["A21/"]',
        'type = "cpr.person.died"\ndomain = "status"\ncodes = ["A21/", "A25"]',
    )
    mine = parse_catalogue(text, source="mine.toml")
    events = derive_events(BEFORE, BEFORE, [ChangeCode("A25", None, None)], META, mine)
    assert [e.type for e in events] == ["cpr.person.died"]
