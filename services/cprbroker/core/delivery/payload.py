"""Shape the webhook payload of an event for one subscriber: thin or full, and
with name and address withheld for persons under name-and-address protection
unless the client is entitled to see them.

The event arrives as the plain JSON form of a
:class:`~cprbroker.core.events.event.BusinessEvent`
(:func:`cprbroker.core.events.serial.event_to_dict`)::

    {
      "id": "...", "type": "...", "pnr": "...", "file_id": "...",
      "cpr_event_code": "A01", "derived_mark": null,
      "occurred_at": "2024-05-31T10:00", "production_date": "2024-06-01",
      "municipality_before": "0101", "municipality_after": "0147",
      "change": {"domain": "address", "before": {...}, "after": {...}} | null,
      "snapshot": {
        "name": {...}, "address": {...},
        "emigration": {"country_code": ..., "foreign_address_lines": [...]},
        "protections": [{"type": "0001", "start": "2024-01-01", "end": null}],
        ...
      },
      "active_protections": [...]
    }

Only these keys are relied on; anything else passes through untouched.
"""

from __future__ import annotations

import copy
import datetime as dt
import enum
from collections.abc import Iterable, Mapping
from typing import Any

from cprbroker.core.errors import DeliveryPolicyError

NAME_AND_ADDRESS_PROTECTION = "0001"
"""004 BESKYTTYPE for name-and-address protection (CPR-loven §28)."""

THIN_FIELDS: tuple[str, ...] = ("id", "file_id", "type", "pnr", "occurred_at", "production_date")
"""What a thin payload carries: the ids, the type, the person and the time."""

PROTECTED_DOMAINS: frozenset[str] = frozenset({"name", "address"})
"""Change domains whose before/after values are the person's name or address."""

WITHHELD_KEY = "withheld"
"""Lists the JSON pointers removed, so a receiver can tell withheld from absent."""


class PayloadLevel(enum.Enum):
    """How much of an event a subscription receives."""

    THIN = "thin"
    FULL = "full"

    @classmethod
    def parse(cls, value: str) -> PayloadLevel:
        """Return the level named ``value``; raise DeliveryPolicyError otherwise."""
        try:
            return cls(value)
        except ValueError as exc:
            allowed = ", ".join(level.value for level in cls)
            raise DeliveryPolicyError(
                f"payload level must be one of {allowed}, got {value!r}"
            ) from exc


def _parse_date(value: object) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise ValueError(value)


def _protection_active(protection: Mapping[str, Any], on: dt.date) -> bool:
    try:
        start = _parse_date(protection.get("start"))
        end = _parse_date(protection.get("end"))
    except ValueError:
        # An unreadable (or partly unknown) date must not leak a protected
        # address: treat the protection as in force.
        return True
    if start is not None and on < start:
        return False
    # As in the event model: the end date is the first day it no longer holds.
    return end is None or on < end


def _protections(event: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    snapshot = event.get("snapshot")
    sources = [event.get("active_protections")]
    if isinstance(snapshot, Mapping):
        sources.append(snapshot.get("protections"))
    for source in sources:
        if isinstance(source, list | tuple):
            yield from (item for item in source if isinstance(item, Mapping))


def has_active_name_and_address_protection(event: Mapping[str, Any], on: dt.date) -> bool:
    """True if the event's person has a 0001 protection in force on ``on``."""
    return any(
        str(p.get("type", "")).zfill(4) == NAME_AND_ADDRESS_PROTECTION and _protection_active(p, on)
        for p in _protections(event)
    )


def _pop(section: object, key: str, pointer: str, withheld: list[str]) -> None:
    if isinstance(section, dict) and section.get(key) not in (None, [], ""):
        del section[key]
        withheld.append(pointer)


def withhold_name_and_address(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``event`` without the person's name and address:
    ``snapshot.name``, ``snapshot.address``, the foreign address lines, and the
    before/after of a name or address change; ``withheld`` lists them as JSON
    pointers."""
    masked = copy.deepcopy(dict(event))
    withheld: list[str] = []
    snapshot = masked.get("snapshot")
    _pop(snapshot, "name", "/snapshot/name", withheld)
    _pop(snapshot, "address", "/snapshot/address", withheld)
    if isinstance(snapshot, dict):
        _pop(
            snapshot.get("emigration"),
            "foreign_address_lines",
            "/snapshot/emigration/foreign_address_lines",
            withheld,
        )
    change = masked.get("change")
    if isinstance(change, dict) and change.get("domain") in PROTECTED_DOMAINS:
        _pop(change, "before", "/change/before", withheld)
        _pop(change, "after", "/change/after", withheld)
    if withheld:
        masked[WITHHELD_KEY] = withheld
    return masked


def shape_payload(
    event: Mapping[str, Any],
    level: PayloadLevel,
    *,
    may_see_protected: bool,
    on: dt.date,
) -> dict[str, Any]:
    """Return the ``data`` a subscriber receives for ``event``.

    THIN carries :data:`THIN_FIELDS` (those present). FULL carries the whole
    event with its snapshot; if the person has name-and-address protection in
    force on ``on`` (the day of sending) and ``may_see_protected`` is false,
    name and address are removed before anything is sent. The input is never
    modified.
    """
    if level is PayloadLevel.THIN:
        return {key: event[key] for key in THIN_FIELDS if key in event}
    if not may_see_protected and has_active_name_and_address_protection(event, on):
        return withhold_name_and_address(event)
    return copy.deepcopy(dict(event))
