"""Which subscriptions an event goes to: the event's JSON form straight from
Avro, its filter facts, and the entitlement and status rules on top of the
filter.

Shared by the delivery role (fan-out of every event) and the API (replay and
redelivery of one subscription), so both decide alike. Everything here works
on the event's plain JSON form (:func:`cprbroker.core.events.serial.event_to_dict`),
which is what deliveries carry, so the fan-out never builds the dataclasses.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Protocol

from cprbroker.core.clients import ApiClient
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.model import Domain
from cprbroker.core.events.serial import change_record_name
from cprbroker.core.subscriptions import (
    AddressKey,
    EventFacts,
    OnList,
    Subscription,
    SubscriptionState,
    matches,
)

_DOMAIN_OF_RECORD = {change_record_name(domain): domain for domain in Domain}


class RecordDecoder(Protocol):
    """Decodes a single-object Avro event into its Avro-form dict (the codec,
    or the delivery role's quicker reader)."""

    def decode_record(self, data: bytes) -> dict[str, Any]:
        """The Avro-form dict; EventFormatError when ``data`` is not an event."""
        ...


def event_document(codec: RecordDecoder, raw: bytes) -> dict[str, Any]:
    """The JSON form of the event in a single-object Avro message (as
    ``event_to_dict(codec.decode(raw))`` gives it, without building the
    dataclasses); EventFormatError when it does not decode."""
    record = codec.decode_record(raw)
    change = record.get("change")
    if change is not None:
        if not (isinstance(change, tuple | list) and len(change) == 2):
            raise EventFormatError(f"/change: expected a change record, got {change!r}")
        name, fields = change
        domain = _DOMAIN_OF_RECORD.get(name)
        if domain is None or not isinstance(fields, Mapping):
            raise EventFormatError(f"/change: unknown change record {name!r}")
        record["change"] = {
            "domain": domain.key,
            "before": fields.get("before"),
            "after": fields.get("after"),
        }
    return record


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _datetime(value: object) -> dt.datetime | None:
    text = _text(value)
    return None if text is None else _parse_datetime(text)


# Times and birth dates repeat across events (an extract's events share a few
# thousand minutes; people share birthdays): each distinct text is parsed once.
@lru_cache(maxsize=65536)
def _parse_datetime(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        # Partly unknown CPR times ("1961-00-00T12:99") cannot be placed.
        return None


def _date(value: object) -> dt.date | None:
    text = _text(value)
    return None if text is None else _parse_date(text[:10])


@lru_cache(maxsize=65536)
def _parse_date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _address_key(address: object) -> AddressKey | None:
    if not isinstance(address, Mapping):
        return None
    municipality, road = _text(address.get("municipality")), _text(address.get("road_code"))
    if municipality is None or road is None:
        return None
    return AddressKey(municipality, road, _text(address.get("house_number")))


def event_facts(event: Mapping[str, Any]) -> EventFacts:
    """What subscription filters test about the event in JSON form ``event``.

    The time is ``occurred_at``, else the file's production date (midnight).
    For an address change the addresses before and after are the change's; for
    any other event the person lives at the current address before and after.
    """
    occurred = _datetime(event.get("occurred_at"))
    if occurred is None:
        production = _date(event.get("production_date")) or dt.date(1900, 1, 1)
        occurred = dt.datetime.combine(production, dt.time())
    snapshot = event.get("snapshot")
    snapshot = snapshot if isinstance(snapshot, Mapping) else {}
    change = event.get("change")
    if isinstance(change, Mapping) and change.get("domain") == Domain.ADDRESS.key:
        before, after = _address_key(change.get("before")), _address_key(change.get("after"))
    else:
        before = after = _address_key(snapshot.get("address"))
    return EventFacts(
        type=str(event.get("type", "")),
        pnr=str(event.get("pnr", "")),
        cpr_event_code=_text(event.get("cpr_event_code")),
        derived_mark=_text(event.get("derived_mark")),
        occurred_at=occurred,
        birth_date=_date(snapshot.get("birth_date")),
        municipality_before=_text(event.get("municipality_before")),
        municipality_after=_text(event.get("municipality_after")),
        address_before=before,
        address_after=after,
    )


def may_receive(client: ApiClient | None, event_type: str) -> bool:
    """Whether the owner ``client`` may receive events of ``event_type``: it must
    exist, not be revoked, and be entitled to the type."""
    return client is not None and not client.revoked and client.entitled_to(event_type)


def wants(subscription: Subscription, facts: EventFacts, on_list: OnList) -> bool:
    """Whether a delivery of the event is made for ``subscription`` now: its
    filter matches and it is not paused (a paused subscription is skipped; a
    disabled one still gets the delivery, parked as a dead letter until it is
    re-enabled)."""
    if subscription.status.state is SubscriptionState.PAUSED:
        return False
    return matches(subscription.filter, facts, on_list)
