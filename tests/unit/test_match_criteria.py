"""Filter semantics, criterion by criterion, through the reference ``matches``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from cprbroker.core.subscriptions import (
    AddressCriterion,
    AddressKey,
    AgeRange,
    EventFacts,
    Filter,
    matches,
)

PNR = "0701614011"
OTHER_PNR = "0707614226"


def facts(**changes: object) -> EventFacts:
    base = EventFacts(
        type="cpr.person.moved",
        pnr=PNR,
        cpr_event_code="A01",
        derived_mark=None,
        occurred_at=datetime(2024, 3, 4, 15, 36, tzinfo=UTC),
        birth_date=date(1961, 1, 7),
        municipality_before="0851",
        municipality_after="0101",
        address_before=AddressKey("0851", "0420", "7"),
        address_after=AddressKey("0101", "1234", "012 "),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


NOBODY: frozenset[str] = frozenset()


def test_the_empty_filter_is_a_catch_all() -> None:
    assert Filter().is_catch_all
    assert matches(Filter(), facts(), NOBODY)
    assert matches(Filter(), facts(type="cpr.person.died", derived_mark="ÆG"), NOBODY)


@pytest.mark.parametrize(
    ("types", "expected"),
    [
        ({"cpr.person.moved"}, True),
        ({"cpr.person.died", "cpr.person.moved"}, True),
        ({"cpr.person.died"}, False),
    ],
)
def test_event_types_match_any_listed_type(types: set[str], expected: bool) -> None:
    assert matches(Filter(event_types=frozenset(types)), facts(), NOBODY) is expected


def test_cpr_event_codes_match_the_change_code() -> None:
    assert matches(Filter(cpr_event_codes=frozenset({"A01", "A21"})), facts(), NOBODY)
    assert not matches(Filter(cpr_event_codes=frozenset({"A21"})), facts(), NOBODY)
    # An event without a CPR change code cannot match a code criterion.
    assert not matches(
        Filter(cpr_event_codes=frozenset({"A01"})), facts(cpr_event_code=None), NOBODY
    )


def test_pnr_list_asks_the_subscription_list_as_set_or_predicate() -> None:
    on_list = Filter(pnr_list=True)
    assert matches(on_list, facts(), {PNR})
    assert not matches(on_list, facts(), {OTHER_PNR})
    assert matches(on_list, facts(), lambda pnr: pnr == PNR)
    assert not matches(on_list, facts(), lambda pnr: False)


def test_the_list_is_not_consulted_without_pnr_list() -> None:
    def refuse(pnr: str) -> bool:
        raise AssertionError("list consulted")

    assert matches(Filter(event_types=frozenset({"cpr.person.moved"})), facts(), refuse)


@pytest.mark.parametrize(
    ("codes", "expected"),
    [({"0851"}, True), ({"0101"}, True), ({"0147", "0101"}, True), ({"0147"}, False)],
)
def test_municipalities_match_before_or_after(codes: set[str], expected: bool) -> None:
    assert matches(Filter(municipalities=frozenset(codes)), facts(), NOBODY) is expected


def test_municipalities_with_unknown_before_still_match_after() -> None:
    arrived = facts(municipality_before=None, type="cpr.person.immigrated")
    assert matches(Filter(municipalities=frozenset({"0101"})), arrived, NOBODY)
    left = facts(municipality_after=None, municipality_before=None)
    assert not matches(Filter(municipalities=frozenset({"0101"})), left, NOBODY)


@pytest.mark.parametrize(
    ("birth", "age_range", "expected"),
    [
        (date(1961, 1, 7), AgeRange(63, 63), True),  # turned 63 in January
        (date(1961, 3, 4), AgeRange(63, 63), True),  # birthday on the event's day
        (date(1961, 3, 5), AgeRange(63, 63), False),  # still 62
        (date(1961, 3, 5), AgeRange(None, 62), True),
        (date(2006, 3, 5), AgeRange(None, 17), True),
        (date(2006, 3, 4), AgeRange(None, 17), False),
        (date(1959, 1, 1), AgeRange(65, None), True),
        (date(1960, 1, 1), AgeRange(65, None), False),
    ],
)
def test_age_is_whole_years_at_the_event(birth: date, age_range: AgeRange, expected: bool) -> None:
    assert matches(Filter(age=age_range), facts(birth_date=birth), NOBODY) is expected


def test_age_of_a_leap_day_birth() -> None:
    born = date(2004, 2, 29)
    on_feb_28 = facts(birth_date=born, occurred_at=datetime(2022, 2, 28, tzinfo=UTC))
    on_mar_1 = facts(birth_date=born, occurred_at=datetime(2022, 3, 1, tzinfo=UTC))
    assert on_feb_28.age == 17
    assert on_mar_1.age == 18
    assert not matches(Filter(age=AgeRange(18, None)), on_feb_28, NOBODY)
    assert matches(Filter(age=AgeRange(18, None)), on_mar_1, NOBODY)


def test_unknown_birth_date_never_matches_an_age_range() -> None:
    assert not matches(Filter(age=AgeRange(0, 999)), facts(birth_date=None), NOBODY)


def test_addresses_match_the_road_before_or_after() -> None:
    assert matches(Filter(addresses=(AddressCriterion("0101", "1234"),)), facts(), NOBODY)
    assert matches(Filter(addresses=(AddressCriterion("0851", "0420"),)), facts(), NOBODY)
    assert not matches(Filter(addresses=(AddressCriterion("0101", "0420"),)), facts(), NOBODY)


def test_house_numbers_compare_in_normal_form() -> None:
    # The event carries CPR's "012 ", the filter says "12" or "012".
    for written in ("12", "012", "0012"):
        criterion = AddressCriterion("0101", "1234", written)
        assert matches(Filter(addresses=(criterion,)), facts(), NOBODY)
    assert not matches(
        Filter(addresses=(AddressCriterion("0101", "1234", "12B"),)), facts(), NOBODY
    )
    lettered = facts(address_after=AddressKey("0101", "1234", "012b"))
    assert matches(Filter(addresses=(AddressCriterion("0101", "1234", "12B"),)), lettered, NOBODY)


def test_an_event_without_addresses_cannot_match_an_address() -> None:
    homeless = facts(address_before=None, address_after=None)
    assert not matches(Filter(addresses=(AddressCriterion("0101", "1234"),)), homeless, NOBODY)


@pytest.mark.parametrize(
    ("mark", "derived"), [(None, False), ("", False), ("  ", False), ("ÆG", True)]
)
def test_include_derived_false_refuses_derived_events(mark: str | None, derived: bool) -> None:
    own_only = Filter(include_derived=False)
    assert matches(own_only, facts(derived_mark=mark), NOBODY) is not derived
    assert matches(Filter(), facts(derived_mark=mark), NOBODY)


def test_criteria_combine_with_and() -> None:
    combined = Filter(
        event_types=frozenset({"cpr.person.moved"}),
        municipalities=frozenset({"0101"}),
        age=AgeRange(60, 70),
        pnr_list=True,
    )
    assert matches(combined, facts(), {PNR})
    assert not matches(combined, facts(), {OTHER_PNR})
    assert not matches(combined, facts(type="cpr.person.died"), {PNR})
    assert not matches(
        combined, facts(municipality_before="0147", municipality_after="0147"), {PNR}
    )
    assert not matches(combined, facts(birth_date=date(2000, 1, 1)), {PNR})


def test_sf1320_divorce_and_move_out_example() -> None:
    """KOMBIT's example: one person, three events; a municipality subscriber of
    the old municipality sees all three, a civil-status subscriber one."""
    events = [
        facts(type="cpr.person.civil_status_changed", cpr_event_code="A24",
              municipality_before="0101", municipality_after="0101"),
        facts(type="cpr.person.address_changed"),
        facts(type="cpr.person.municipality_changed"),
    ]  # fmt: skip
    old_home = Filter(municipalities=frozenset({"0101"}))
    civil = Filter(event_types=frozenset({"cpr.person.civil_status_changed"}))
    assert [matches(old_home, e, NOBODY) for e in events] == [True, True, True]
    assert [matches(civil, e, NOBODY) for e in events] == [True, False, False]


def test_criteria_lists_the_restricting_fields() -> None:
    assert Filter(pnr_list=True, include_derived=False).criteria() == (
        "pnr_list",
        "include_derived",
    )
    assert Filter(age=AgeRange(1, 2)).criteria() == ("age",)
