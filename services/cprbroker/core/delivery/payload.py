"""Shape the webhook payload of an event for one subscriber: thin or full, and
with name and address withheld for persons under name-and-address protection
unless the client is entitled to see them.

The event arrives as a plain JSON dict. The shape assumed here (to be aligned
with the event model in ``core/events``)::

    {
      "id": "...",                      event id (deterministic)
      "type": "...",                    business event type
      "pnr": "0101901234",              the person
      "time": "2024-05-01T12:00:00Z",   when it happened (099 TIMESTAMPU)
      "file_id": "...",                 the extract it came from (optional)
      "change_code": "A01", "mark": "ÆG" | "",
      "municipality_before": "0101", "municipality_after": "0147",
      "domain": "address",              the changed domain (optional)
      "before": {...}, "after": {...},  the changed domain's values, either keyed
                                        by domain ({"address": {...}}) or flat
      "snapshot": {
        "name": {...}, "address": {...}, "addressing_name": "...",
        "contact_address": {...}, "foreign_address": {...},
        "protections": [{"type": "0001", "start": "2024-01-01", "end": null}],
        ...
      }
    }

``protections`` is read from ``snapshot.protections`` and, if present, from a
top-level ``protections`` too.
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

THIN_FIELDS: tuple[str, ...] = ("id", "file_id", "type", "pnr", "time")
"""What a thin payload carries: the ids, the type, the person and the time."""

PROTECTED_FIELDS: frozenset[str] = frozenset(
    {"name", "address", "addressing_name", "contact_address", "foreign_address"}
)
"""Fields holding the person's name or address. Municipality codes stay: they
are what municipality subscriptions filter on."""

WITHHELD_KEY = "withheld"
"""Names the fields removed, so a receiver can tell withheld from absent."""


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
    if isinstance(value, dt.date):
        return value
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
        # An unreadable date must not leak a protected address: treat as active.
        return True
    if start is not None and on < start:
        return False
    # The end date (SLET_DT) is still a protected day: privacy errs on masking.
    return end is None or on <= end


def _protections(event: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    snapshot = event.get("snapshot")
    sources = [event.get("protections")]
    if isinstance(snapshot, Mapping):
        sources.append(snapshot.get("protections"))
    for source in sources:
        if isinstance(source, list):
            yield from (item for item in source if isinstance(item, Mapping))


def has_active_name_and_address_protection(event: Mapping[str, Any], on: dt.date) -> bool:
    """True if the event's person has a 0001 protection in force on ``on``."""
    return any(
        str(p.get("type", "")).zfill(4) == NAME_AND_ADDRESS_PROTECTION and _protection_active(p, on)
        for p in _protections(event)
    )


def _strip(section: dict[str, Any], withheld: set[str]) -> None:
    for key in PROTECTED_FIELDS & section.keys():
        del section[key]
        withheld.add(key)


def withhold_name_and_address(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return a deep copy of ``event`` without the person's name and address in
    ``snapshot``, ``before`` and ``after``, listing what went in ``withheld``."""
    masked = copy.deepcopy(dict(event))
    withheld: set[str] = set()
    domain = masked.get("domain")
    protected_domain = isinstance(domain, str) and domain in PROTECTED_FIELDS
    for section_name in ("snapshot", "before", "after"):
        section = masked.get(section_name)
        if section_name != "snapshot" and protected_domain and section is not None:
            # Flat before/after of a name or address change is the protected value itself.
            del masked[section_name]
            withheld.add(str(domain))
        elif isinstance(section, dict):
            _strip(section, withheld)
    if withheld:
        masked[WITHHELD_KEY] = sorted(withheld)
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
    force on ``on`` and ``may_see_protected`` is false, name and address are
    removed before anything is sent. The input is never modified.
    """
    if level is PayloadLevel.THIN:
        return {key: event[key] for key in THIN_FIELDS if key in event}
    if not may_see_protected and has_active_name_and_address_protection(event, on):
        return withhold_name_and_address(event)
    return copy.deepcopy(dict(event))
