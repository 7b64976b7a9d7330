"""EventFacts and the normal forms filters compare."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from cprbroker.core.subscriptions import AddressCriterion, AddressKey, EventFacts, age_on
from cprbroker.core.subscriptions import normalize_house_number as normal


@pytest.mark.parametrize(
    ("written", "expected"),
    [("012 ", "12"), ("12", "12"), ("0012", "12"), ("026B", "26B"), ("26b", "26B"),
     ("  7 ", "7"), ("000", "0"), ("0A", "0A"), ("", "")],
)  # fmt: skip
def test_house_numbers_have_one_normal_form(written: str, expected: str) -> None:
    assert normal(written) == expected


def test_address_key_and_criterion_normalise_on_construction() -> None:
    assert AddressKey("0101", "1234", "012 ").house_number == "12"
    assert AddressCriterion("0101", "1234", "012b").house_number == "12B"
    assert AddressKey("0101", "1234").house_number is None
    assert AddressKey("0101", "1234", "    ").house_number is None


@pytest.mark.parametrize(
    ("born", "day", "age"),
    [
        (date(1961, 1, 7), date(2024, 3, 4), 63),
        (date(1961, 3, 4), date(2024, 3, 4), 63),
        (date(1961, 3, 5), date(2024, 3, 4), 62),
        (date(2024, 3, 4), date(2024, 3, 4), 0),
        (date(2004, 2, 29), date(2023, 2, 28), 18),
        (date(2004, 2, 29), date(2024, 2, 29), 20),
        (date(2024, 3, 5), date(2024, 3, 4), -1),
    ],
)
def test_age_is_whole_years(born: date, day: date, age: int) -> None:
    assert age_on(born, day) == age


def test_age_uses_the_day_of_the_event() -> None:
    facts = EventFacts(
        type="cpr.person.died",
        pnr="0708614327",
        cpr_event_code="A21",
        derived_mark="ÆG",
        occurred_at=datetime(2024, 8, 7, 0, 5, tzinfo=UTC),
        birth_date=date(1961, 8, 7),
        municipality_before="0101",
        municipality_after="0101",
    )
    assert facts.age == 63
    assert facts.is_derived
    # The cached age is not part of the event's identity.
    assert facts == replace(facts)
    assert hash(facts) == hash(replace(facts))
