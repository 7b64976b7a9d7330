"""Filters to and from their JSON form.

The document form, as the API accepts it and the subscriptions topic stores it::

    {"event_types": ["cpr.person.moved"], "cpr_event_codes": ["A01"],
     "pnr_list": true, "municipalities": ["0101", "0851"],
     "age": {"min": 18, "max": 65},
     "addresses": [{"municipality": "0101", "road_code": "1234", "house_number": "12B"}],
     "include_derived": false}

Every field is optional; ``{}`` is the catch-all. An empty array is refused
rather than read as "nothing" or "everything": leaving the field out is how
to not restrict.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from cprbroker.core.errors import ValidationError

from .json_fields import as_array, as_bool, as_int, as_object, as_string, child, describe, require
from .model import AddressCriterion, AgeRange, Filter

FILTER_FIELDS = frozenset(
    {
        "event_types",
        "cpr_event_codes",
        "pnr_list",
        "municipalities",
        "age",
        "addresses",
        "include_derived",
    }
)
_AGE_FIELDS = frozenset({"min", "max"})
_ADDRESS_FIELDS = frozenset({"municipality", "road_code", "house_number"})
# SF6002 AgeRange: nonNegativeInteger, at most three digits.
MAX_AGE = 999
# Generous for any real filter, small enough to refuse a runaway client.
MAX_VALUES = 1000

_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_CHANGE_CODE = re.compile(r"[A-Z][0-9]{2}")
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*")
# CPR HUSNR: up to three digits and an optional letter ("12", "012", "12B").
_HOUSE_NUMBER = re.compile(r"[0-9]{1,3}[A-Za-z]?")


def parse_filter(
    value: object, *, known_event_types: Collection[str] | None, pointer: str = "/filter"
) -> Filter:
    """Build a :class:`Filter` from its document form.

    ``known_event_types`` is the set of event types the catalogue defines;
    any other type is refused. ``None`` accepts every well-formed type name
    (for reading stored subscriptions written under an older catalogue).
    Raises :class:`ValidationError` naming the first wrong value by its JSON
    pointer under ``pointer``.
    """
    document = as_object(value, pointer, FILTER_FIELDS)
    event_types = cpr_event_codes = municipalities = None
    age = None
    addresses = None
    pnr_list = False
    include_derived = True
    if "event_types" in document:
        at = child(pointer, "event_types")
        event_types = frozenset(
            _event_type(item, child(at, i), known_event_types)
            for i, item in enumerate(_values(document["event_types"], at))
        )
    if "cpr_event_codes" in document:
        at = child(pointer, "cpr_event_codes")
        cpr_event_codes = frozenset(
            _matching(item, child(at, i), _CHANGE_CODE, 'a CPR change code such as "A01"')
            for i, item in enumerate(_values(document["cpr_event_codes"], at))
        )
    if "pnr_list" in document:
        pnr_list = as_bool(document["pnr_list"], child(pointer, "pnr_list"))
    if "municipalities" in document:
        at = child(pointer, "municipalities")
        municipalities = frozenset(
            _four_digits(item, child(at, i), "municipality code", "0101")
            for i, item in enumerate(_values(document["municipalities"], at))
        )
    if "age" in document:
        age = _age(document["age"], child(pointer, "age"))
    if "addresses" in document:
        at = child(pointer, "addresses")
        addresses = tuple(
            dict.fromkeys(
                _address(item, child(at, i))
                for i, item in enumerate(_values(document["addresses"], at))
            )
        )
    if "include_derived" in document:
        include_derived = as_bool(document["include_derived"], child(pointer, "include_derived"))
    return Filter(
        event_types=event_types,
        cpr_event_codes=cpr_event_codes,
        pnr_list=pnr_list,
        municipalities=municipalities,
        age=age,
        addresses=addresses,
        include_derived=include_derived,
    )


def filter_to_document(filter_: Filter) -> dict[str, object]:
    """The canonical document form of ``filter_``: only restricting fields,
    arrays sorted, so equal filters give equal documents and
    ``parse_filter(filter_to_document(f)) == f``."""
    document: dict[str, object] = {}
    if filter_.event_types is not None:
        document["event_types"] = sorted(filter_.event_types)
    if filter_.cpr_event_codes is not None:
        document["cpr_event_codes"] = sorted(filter_.cpr_event_codes)
    if filter_.pnr_list:
        document["pnr_list"] = True
    if filter_.municipalities is not None:
        document["municipalities"] = sorted(filter_.municipalities)
    if filter_.age is not None:
        age: dict[str, object] = {}
        if filter_.age.min is not None:
            age["min"] = filter_.age.min
        if filter_.age.max is not None:
            age["max"] = filter_.age.max
        document["age"] = age
    if filter_.addresses is not None:
        addresses: list[object] = []
        for criterion in filter_.addresses:
            address: dict[str, object] = {
                "municipality": criterion.municipality,
                "road_code": criterion.road_code,
            }
            if criterion.house_number is not None:
                address["house_number"] = criterion.house_number
            addresses.append(address)
        document["addresses"] = addresses
    if not filter_.include_derived:
        document["include_derived"] = False
    return document


def _values(value: object, pointer: str) -> list[object]:
    return as_array(
        value,
        pointer,
        max_items=MAX_VALUES,
        empty="must not be empty; leave the field out to not restrict",
    )


def _matching(value: object, pointer: str, pattern: re.Pattern[str], what: str) -> str:
    text = as_string(value, pointer, max_length=100)
    if not pattern.fullmatch(text):
        raise ValidationError(pointer, f"must be {what}, not {describe(text)}")
    return text


def _four_digits(value: object, pointer: str, what: str, example: str) -> str:
    return _matching(value, pointer, _FOUR_DIGITS, f'a 4-digit {what} string such as "{example}"')


def _event_type(value: object, pointer: str, known: Collection[str] | None) -> str:
    name = _matching(value, pointer, _EVENT_TYPE, 'an event type such as "cpr.person.moved"')
    if known is not None and name not in known:
        raise ValidationError(
            pointer, f"unknown event type {describe(name)}; known: {', '.join(sorted(known))}"
        )
    return name


def _age(value: object, pointer: str) -> AgeRange:
    document = as_object(value, pointer, _AGE_FIELDS)
    if not document:
        raise ValidationError(pointer, "must give min, max or both")
    bounds: dict[str, int] = {}
    for key in ("min", "max"):
        if key in document:
            at = child(pointer, key)
            bound = as_int(document[key], at)
            if bound < 0:
                raise ValidationError(at, f"must not be negative, got {bound}")
            if bound > MAX_AGE:
                raise ValidationError(at, f"must be at most {MAX_AGE}, got {bound}")
            bounds[key] = bound
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and high is not None and high < low:
        raise ValidationError(child(pointer, "max"), f"must not be below min ({low}), got {high}")
    return AgeRange(min=low, max=high)


def _address(value: object, pointer: str) -> AddressCriterion:
    document = as_object(value, pointer, _ADDRESS_FIELDS)
    municipality = _four_digits(
        require(document, "municipality", pointer),
        child(pointer, "municipality"),
        "municipality code",
        "0101",
    )
    road_code = _four_digits(
        require(document, "road_code", pointer), child(pointer, "road_code"), "road code", "1234"
    )
    house_number = None
    if "house_number" in document:
        house_number = _matching(
            document["house_number"],
            child(pointer, "house_number"),
            _HOUSE_NUMBER,
            'a house number such as "12" or "12B"',
        )
    return AddressCriterion(municipality, road_code, house_number)
