"""Filter documents: parsing, validation errors by JSON pointer, round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cprbroker.core.errors import InputError, ValidationError
from cprbroker.core.subscriptions import (
    AddressCriterion,
    AgeRange,
    Filter,
    filter_to_document,
    parse_filter,
)

# The v1 catalogue's types, as the API will pass them from the catalogue file.
KNOWN = frozenset(
    f"cpr.person.{name}"
    for name in [
        "moved",
        "municipality_changed",
        "address_changed",
        "died",
        "civil_status_changed",
        "name_changed",
        "protection_changed",
        "emigrated",
        "immigrated",
        "disappeared",
        "reappeared",
        "church_membership_changed",
        "citizenship_changed",
        "guardianship_changed",
        "parents_changed",
        "children_changed",
        "custody_changed",
        "pnr_changed",
        "changed",
    ]
)


def parse(document: object) -> Filter:
    return parse_filter(document, known_event_types=KNOWN)


def refusal(document: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        parse(document)
    return caught.value


def test_empty_document_is_the_catch_all() -> None:
    assert parse({}) == Filter()
    assert parse({}).is_catch_all


def test_every_criterion_is_read() -> None:
    parsed = parse(
        {
            "event_types": ["cpr.person.moved", "cpr.person.died"],
            "cpr_event_codes": ["A01", "A21"],
            "pnr_list": True,
            "municipalities": ["0101", "0851", "0101"],
            "age": {"min": 18, "max": 65},
            "addresses": [
                {"municipality": "0101", "road_code": "1234", "house_number": "012B"},
                {"municipality": "0851", "road_code": "0420"},
            ],
            "include_derived": False,
        }
    )
    assert parsed == Filter(
        event_types=frozenset({"cpr.person.moved", "cpr.person.died"}),
        cpr_event_codes=frozenset({"A01", "A21"}),
        pnr_list=True,
        municipalities=frozenset({"0101", "0851"}),
        age=AgeRange(18, 65),
        addresses=(AddressCriterion("0101", "1234", "12B"), AddressCriterion("0851", "0420")),
        include_derived=False,
    )


def test_open_ended_age_ranges() -> None:
    assert parse({"age": {"min": 65}}).age == AgeRange(65, None)
    assert parse({"age": {"max": 17}}).age == AgeRange(None, 17)
    assert parse({"age": {"min": 0, "max": 0}}).age == AgeRange(0, 0)


@pytest.mark.parametrize(
    ("document", "pointer", "words"),
    [
        ({"colour": "blue"}, "/filter/colour", "unknown field"),
        ({"age": {"min": 1, "avg": 3}}, "/filter/age/avg", "unknown field"),
        ({"event_types": ["cpr.person.moved", "cpr.person.flew"]}, "/filter/event_types/1",
         "unknown event type"),
        ({"event_types": ["Moved!"]}, "/filter/event_types/0", "event type"),
        ({"event_types": []}, "/filter/event_types", "must not be empty"),
        ({"event_types": "cpr.person.moved"}, "/filter/event_types", "must be an array"),
        ({"cpr_event_codes": ["A1"]}, "/filter/cpr_event_codes/0", "CPR change code"),
        ({"cpr_event_codes": ["a01"]}, "/filter/cpr_event_codes/0", "CPR change code"),
        ({"cpr_event_codes": ["A01", "A011"]}, "/filter/cpr_event_codes/1", "CPR change code"),
        ({"cpr_event_codes": ["A\u06601"]}, "/filter/cpr_event_codes/0", "CPR change code"),
        ({"municipalities": ["101"]}, "/filter/municipalities/0", "4-digit"),
        ({"municipalities": ["0101", 101]}, "/filter/municipalities/1", "must be a string"),
        ({"municipalities": ["01011"]}, "/filter/municipalities/0", "4-digit"),
        ({"age": {"min": -1}}, "/filter/age/min", "negative"),
        ({"age": {"max": -3}}, "/filter/age/max", "negative"),
        ({"age": {"min": 30, "max": 20}}, "/filter/age/max", "below min"),
        ({"age": {"min": 1000}}, "/filter/age/min", "at most 999"),
        ({"age": {"min": 1.5}}, "/filter/age/min", "integer"),
        ({"age": {"min": True}}, "/filter/age/min", "integer"),
        ({"age": {}}, "/filter/age", "min, max or both"),
        ({"age": [18, 65]}, "/filter/age", "must be an object"),
        ({"pnr_list": "yes"}, "/filter/pnr_list", "true or false"),
        ({"include_derived": 0}, "/filter/include_derived", "true or false"),
        ({"addresses": [{"municipality": "0101"}]}, "/filter/addresses/0/road_code", "required"),
        ({"addresses": [{"road_code": "0101"}]}, "/filter/addresses/0/municipality", "required"),
        ({"addresses": [{"municipality": "0101", "road_code": "12"}]},
         "/filter/addresses/0/road_code", "4-digit"),
        ({"addresses": [{"municipality": "0101", "road_code": "1234", "house_number": "12-14"}]},
         "/filter/addresses/0/house_number", "house number"),
        ({"addresses": [{"municipality": "0101", "road_code": "1234", "floor": "st"}]},
         "/filter/addresses/0/floor", "unknown field"),
    ],
)  # fmt: skip
def test_refusals_name_the_value_by_json_pointer(
    document: dict[str, object], pointer: str, words: str
) -> None:
    error = refusal(document)
    assert error.pointer == pointer
    assert words in error.detail
    assert str(error).startswith(pointer + ": ")
    assert isinstance(error, InputError)
    assert error.retriable is False


def test_a_filter_must_be_an_object() -> None:
    assert refusal(["cpr.person.moved"]).pointer == "/filter"


def test_pointer_tokens_are_escaped() -> None:
    assert refusal({"a/b~c": 1}).pointer == "/filter/a~1b~0c"


def test_the_pointer_prefix_is_the_callers() -> None:
    with pytest.raises(ValidationError) as caught:
        parse_filter({"age": {"min": -1}}, known_event_types=KNOWN, pointer="")
    assert caught.value.pointer == "/age/min"


def test_without_a_catalogue_any_well_formed_type_is_accepted() -> None:
    parsed = parse_filter({"event_types": ["cpr.person.teleported"]}, known_event_types=None)
    assert parsed.event_types == frozenset({"cpr.person.teleported"})
    with pytest.raises(ValidationError):
        parse_filter({"event_types": ["not a type"]}, known_event_types=None)


def test_canonical_document() -> None:
    assert filter_to_document(Filter()) == {}
    assert filter_to_document(
        Filter(municipalities=frozenset({"0851", "0101"}), age=AgeRange(None, 17))
    ) == {"municipalities": ["0101", "0851"], "age": {"max": 17}}


documents = st.fixed_dictionaries(
    {},
    optional={
        "event_types": st.lists(st.sampled_from(sorted(KNOWN)), min_size=1, max_size=4),
        "cpr_event_codes": st.lists(st.from_regex(r"[A-Z][0-9]{2}", fullmatch=True), min_size=1),
        "pnr_list": st.booleans(),
        "municipalities": st.lists(st.from_regex(r"[0-9]{4}", fullmatch=True), min_size=1),
        "age": st.fixed_dictionaries(
            {"min": st.integers(0, 500)}, optional={"max": st.integers(500, 999)}
        ),
        "addresses": st.lists(
            st.fixed_dictionaries(
                {
                    "municipality": st.from_regex(r"[0-9]{4}", fullmatch=True),
                    "road_code": st.from_regex(r"[0-9]{4}", fullmatch=True),
                },
                optional={"house_number": st.from_regex(r"[0-9]{1,3}[A-Z]?", fullmatch=True)},
            ),
            min_size=1,
            max_size=3,
        ),
        "include_derived": st.booleans(),
    },
)


@given(documents)
def test_document_round_trip(document: dict[str, object]) -> None:
    parsed = parse(document)
    canonical = filter_to_document(parsed)
    assert parse(canonical) == parsed
    assert filter_to_document(parse(canonical)) == canonical
