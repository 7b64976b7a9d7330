"""Plain-dict forms of snapshots and events, for JSON and for Avro.

The dataclasses in :mod:`cprbroker.core.events.model` carry the Avro field
names, so one generic walk converts them. Reading ignores keys it does not
know and fills missing ones from the dataclass defaults, which is what lets a
reader built today accept data written by a newer or older schema version.

The two forms differ only in ``change``: JSON writes
``{"domain": "address", "before": ..., "after": ...}``; Avro writes the change
record of the domain as a ``(record name, fields)`` pair, which is how the
codec tells the union branches apart.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import BusinessEvent, DomainChange
from cprbroker.core.events.model import (
    Address,
    Church,
    Citizenship,
    CivilStatus,
    Custody,
    Domain,
    DomainValue,
    Guardianship,
    Name,
    Parents,
    PersonStatus,
    Protection,
    Snapshot,
)

AVRO_NAMESPACE = "dk.cprbroker.v1"

T = TypeVar("T")

DOMAIN_TYPES: dict[Domain, Any] = {
    # The type of a domain's value in the model (a change's before and after).
    Domain.ADDRESS: Address | None,
    Domain.NAME: Name | None,
    Domain.STATUS: PersonStatus | None,
    Domain.CIVIL_STATUS: CivilStatus | None,
    Domain.PROTECTION: tuple[Protection, ...],
    Domain.CHURCH: Church | None,
    Domain.CITIZENSHIP: Citizenship | None,
    Domain.GUARDIANSHIP: tuple[Guardianship, ...],
    Domain.PARENTS: Parents | None,
    Domain.CHILDREN: tuple[str, ...],
    Domain.CUSTODY: tuple[Custody, ...],
    Domain.PNR: str | None,
}


def change_record_name(domain: Domain) -> str:
    """The full Avro name of the change record of ``domain``."""
    return f"{AVRO_NAMESPACE}.{domain.value}Change"


_DOMAINS_BY_RECORD = {change_record_name(domain): domain for domain in Domain}


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _kind(value: object) -> str:
    # Errors name the JSON type, never the value: documents hold personal data.
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return type(value).__name__


def to_plain(value: object) -> Any:
    """``value`` as JSON-ready data: dataclasses as dicts, tuples as lists."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, tuple | list):
        return [to_plain(item) for item in value]
    cls = type(value)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            return value
        names = _FIELD_NAMES[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return {name: to_plain(getattr(value, name)) for name in names}


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _from_plain(tp: Any, value: Any, pointer: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        if value is None:
            return None
        (inner,) = (arg for arg in typing.get_args(tp) if arg is not type(None))
        return _from_plain(inner, value, pointer)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise EventFormatError(f"{pointer or '/'}: expected an array, got {_kind(value)}")
        item_type = typing.get_args(tp)[0]
        return tuple(_from_plain(item_type, item, f"{pointer}/{i}") for i, item in enumerate(value))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_from_plain(tp, value, pointer)
    if tp is str and not isinstance(value, str):
        raise EventFormatError(f"{pointer or '/'}: expected a string, got {_kind(value)}")
    return value


def _dataclass_from_plain(cls: type[T], value: Any, pointer: str) -> T:
    if not isinstance(value, Mapping):
        raise EventFormatError(f"{pointer or '/'}: expected an object, got {_kind(value)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name in value:
            kwargs[f.name] = _from_plain(hints[f.name], value[f.name], f"{pointer}/{f.name}")
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise EventFormatError(f"{pointer}/{f.name}: required field is missing")
    return cls(**kwargs)


def snapshot_to_dict(snapshot: Snapshot) -> dict[str, Any]:
    """``snapshot`` as a plain dict (the Avro ``PersonSnapshot`` fields)."""
    result: dict[str, Any] = to_plain(snapshot)
    return result


def snapshot_from_dict(data: Mapping[str, Any]) -> Snapshot:
    """The snapshot ``data`` describes; :class:`EventFormatError` names the
    JSON pointer of the first bad value."""
    return _dataclass_from_plain(Snapshot, data, "")


def _value_from_plain(domain: Domain, value: Any, pointer: str) -> DomainValue:
    result: DomainValue = _from_plain(DOMAIN_TYPES[domain], value, pointer)
    return result


def event_to_dict(event: BusinessEvent, *, avro: bool = False) -> dict[str, Any]:
    """``event`` as a plain dict; ``avro=True`` gives the form the Avro codec
    writes (the change as a ``(record name, fields)`` pair)."""
    result: dict[str, Any] = {}
    for f in dataclasses.fields(event):
        if f.name != "change":
            result[f.name] = to_plain(getattr(event, f.name))
    change = event.change
    if change is None:
        result["change"] = None
    elif avro:
        fields = {"before": to_plain(change.before), "after": to_plain(change.after)}
        result["change"] = (change_record_name(change.domain), fields)
    else:
        result["change"] = {
            "domain": change.domain.key,
            "before": to_plain(change.before),
            "after": to_plain(change.after),
        }
    return result


def _change_from_plain(value: Any) -> DomainChange | None:
    if value is None:
        return None
    if isinstance(value, tuple | list) and len(value) == 2 and isinstance(value[0], str):
        record_name, fields = value
        domain = _DOMAINS_BY_RECORD.get(record_name)
        if domain is None:
            raise EventFormatError(f"/change: unknown change record {record_name!r}")
    elif isinstance(value, Mapping):
        fields = value
        try:
            domain = Domain.from_key(str(value.get("domain")))
        except KeyError:
            raise EventFormatError(
                f"/change/domain: unknown domain {value.get('domain')!r}"
            ) from None
    else:
        raise EventFormatError(f"/change: expected an object, got {_kind(value)}")
    return DomainChange(
        domain=domain,
        before=_value_from_plain(domain, fields.get("before"), "/change/before"),
        after=_value_from_plain(domain, fields.get("after"), "/change/after"),
    )


def event_from_dict(data: Mapping[str, Any]) -> BusinessEvent:
    """The event ``data`` describes, in either the JSON or the Avro form."""
    if not isinstance(data, Mapping):
        raise EventFormatError(f"/: expected an object, got {_kind(data)}")
    plain = {key: value for key, value in data.items() if key != "change"}
    plain["change"] = None
    event = _dataclass_from_plain(BusinessEvent, plain, "")
    return dataclasses.replace(event, change=_change_from_plain(data.get("change")))
