"""The ground-truth rules and CPR-number issuing of the synthetic generator,
on hand-made cases."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from cprbroker.core.cpr.pnr import Pnr, passes_mod11
from cprbroker.synth.day import Happening
from cprbroker.synth.pnrgen import century_digits, check_issued, issue_pnr
from cprbroker.synth.records import Record
from cprbroker.synth.truth import code_type, expected_events

PNR = "0701614011"


def _person(
    municipality: str | None = "0851",
    *,
    status: str = "01",
    civil: tuple[str, str] = ("G", "0707614226"),
    children: tuple[str, ...] = (),
    came_from: str = "",
    moved_in: str = "202001011200",
    municipality_since: str = "201001011200",
    road: str = "Vestergade",
) -> list[Record]:
    records: list[Record] = [("001", {"PNR": PNR, "STATUS": status, "KOEN": "M"})]
    if municipality is not None:
        records.append(
            (
                "002",
                {
                    "PNR": PNR,
                    "KOMKOD": municipality,
                    "VEJKOD": "1234",
                    "HUSNR": "012 ",
                    "TILFLYDTO": moved_in,
                    "TILFLYKOMDTO": municipality_since,
                    "FRAFLYKOMKOD": came_from,
                },
            )
        )
        records.append(("003", {"PNR": PNR, "VEJADRNVN": road, "POSTNR": "9000"}))
    records.append(("012", {"PNR": PNR, "CIVST": civil[0], "AEGTEPNR": civil[1]}))
    records.extend(("014", {"PNR": PNR, "PNRBARN": child}) for child in children)
    return records


def _happen(code: str, mark: str = "") -> Happening:
    return Happening(PNR, "202403041536", code, mark)


def _summary(events: list[dict[str, str | None]]) -> list[tuple[str | None, ...]]:
    return [
        (
            str(e["type"]).removeprefix("cpr.person."),
            e["cpr_event_code"],
            e["derived_mark"],
            e["municipality_before"],
            e["municipality_after"],
        )
        for e in events
    ]


def test_a_move_across_municipalities_also_changes_municipality() -> None:
    before = _person("0851")
    after = _person("0101", came_from="0851", moved_in="202403041536")
    events = expected_events(PNR, before, after, [_happen("A01")])
    assert _summary(events) == [
        ("moved", "A01", None, "0851", "0101"),
        ("municipality_changed", "A01", None, "0851", "0101"),
    ]
    assert events[0]["pnr"] == PNR


def test_a_move_within_the_municipality_is_only_a_move() -> None:
    before = _person("0851")
    after = _person("0851", moved_in="202403041536")
    after[1][1]["HUSNR"] = "014 "
    events = expected_events(PNR, before, after, [_happen("A01")])
    assert _summary(events) == [("moved", "A01", None, "0851", "0851")]


def test_a_widow_gets_one_civil_status_event_from_code_and_data() -> None:
    before = _person(civil=("G", "0708614327"))
    after = _person(civil=("E", "0708614327"))
    events = expected_events(PNR, before, after, [_happen("A21", "ÆG")])
    assert _summary(events) == [("civil_status_changed", "A21", "ÆG", "0851", "0851")]


def test_a_death_is_died_and_the_address_vanishing_is_no_move() -> None:
    before = _person("0851")
    after = _person(None, status="90")
    events = expected_events(PNR, before, after, [_happen("A21")])
    assert _summary(events) == [("died", "A21", None, "0851", None)]


def test_parents_at_a_birth_get_the_fallback_and_children_changed() -> None:
    before = _person(children=())
    after = _person(children=("0403242025",))
    events = expected_events(PNR, before, after, [_happen("A51", "MO")])
    assert _summary(events) == [
        ("changed", "A51", "MO", "0851", "0851"),
        ("children_changed", None, None, "0851", "0851"),
    ]


def test_a_person_seen_first_gets_code_events_only() -> None:
    after = _person("0101", civil=("U", ""))
    events = expected_events(PNR, None, after, [_happen("A51")])
    assert _summary(events) == [("changed", "A51", None, "0101", "0101")]


def test_first_sight_of_a_mover_takes_the_municipality_left_from_002() -> None:
    entered = "202403041536"
    after = _person("0101", came_from="0851", moved_in=entered, municipality_since=entered)
    events = expected_events(PNR, None, after, [_happen("A01")])
    assert _summary(events) == [
        ("moved", "A01", None, "0851", "0101"),
        ("municipality_changed", "A01", None, "0851", "0101"),
    ]


def test_data_change_without_code_and_duplicates_merged() -> None:
    before = _person(civil=("U", ""))
    after = _person(civil=("G", "0707614226"), road="Vestergaden")
    # Two 099s with the same code and mark are one event; the address text
    # changed without a move.
    events = expected_events(PNR, before, after, [_happen("A24"), _happen("A24")])
    assert _summary(events) == [
        ("civil_status_changed", "A24", None, "0851", "0851"),
        ("address_changed", None, None, "0851", "0851"),
    ]
    assert expected_events(PNR, before, before, []) == []


@pytest.mark.parametrize(
    ("code", "mark", "expected"),
    [
        ("A21", "", "cpr.person.died"),
        ("A21", "ÆG", "cpr.person.civil_status_changed"),
        ("A21", "PA", "cpr.person.civil_status_changed"),
        ("A21", "BØ", "cpr.person.changed"),
        ("A19", "ÆG", "cpr.person.civil_status_changed"),
        ("P03", "PN", "cpr.person.pnr_changed"),
        ("A09", "", "cpr.person.moved"),
        ("P10", "", "cpr.person.address_changed"),
        ("A05", "", "cpr.person.immigrated"),
        ("A73", "", "cpr.person.guardianship_changed"),
        ("A35", "NF", "cpr.person.changed"),
        ("A45", "", None),
    ],
)
def test_code_types(code: str, mark: str, expected: str | None) -> None:
    assert code_type(code, mark) == expected


@pytest.mark.parametrize(
    ("year", "digits"),
    [
        (1860, (5, 6, 7, 8)),
        (1920, (0, 1, 2, 3)),
        (1950, (0, 1, 2, 3, 4, 9)),
        (2010, (4, 9, 5, 6, 7, 8)),
        (2050, (5, 6, 7, 8)),
    ],
)
def test_issued_numbers_carry_birth_date_and_sex(year: int, digits: tuple[int, ...]) -> None:
    assert century_digits(year) == digits
    rng = random.Random(year)
    taken: set[str] = set()
    born = dt.date(year, 1, 1)
    for i in range(200):
        male = i % 2 == 0
        pnr = issue_pnr(rng, born, male, taken, mod11=i % 4 != 3)
        assert check_issued(pnr, born, male)
        assert Pnr(pnr).birth_date == born
        assert passes_mod11(pnr) == (i % 4 != 3)
        assert int(pnr[6]) in digits
    assert len(taken) == 200


def test_a_year_no_number_can_carry_is_refused() -> None:
    with pytest.raises(ValueError, match="2060"):
        century_digits(2060)
