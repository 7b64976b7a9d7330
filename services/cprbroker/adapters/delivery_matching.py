"""Which subscriptions an event goes to: the filter facts of a business event,
and the entitlement and status rules on top of the filter.

Shared by the delivery role (fan-out of every event) and the API (replay and
redelivery of one subscription), so both decide alike.
"""

from __future__ import annotations

import datetime as dt

from cprbroker.core.clients import ApiClient
from cprbroker.core.events.event import BusinessEvent
from cprbroker.core.events.model import Address, Domain
from cprbroker.core.subscriptions import (
    AddressKey,
    EventFacts,
    OnList,
    Subscription,
    SubscriptionState,
    matches,
)


def _datetime(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        # Partly unknown CPR times ("1961-00-00T12:99") cannot be placed.
        return None


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _address_key(address: object) -> AddressKey | None:
    if not isinstance(address, Address) or not address.municipality or not address.road_code:
        return None
    return AddressKey(address.municipality, address.road_code, address.house_number)


def event_facts(event: BusinessEvent) -> EventFacts:
    """What subscription filters test about ``event``.

    The time is ``occurred_at``, else the file's production date (midnight).
    For an address change the addresses before and after are the change's; for
    any other event the person lives at the current address before and after.
    """
    occurred = _datetime(event.occurred_at)
    if occurred is None:
        production = _date(event.production_date) or dt.date(1900, 1, 1)
        occurred = dt.datetime.combine(production, dt.time())
    change = event.change
    if change is not None and change.domain is Domain.ADDRESS:
        before, after = _address_key(change.before), _address_key(change.after)
    else:
        before = after = _address_key(event.snapshot.address)
    return EventFacts(
        type=event.type,
        pnr=event.pnr,
        cpr_event_code=event.cpr_event_code,
        derived_mark=event.derived_mark,
        occurred_at=occurred,
        birth_date=_date(event.snapshot.birth_date),
        municipality_before=event.municipality_before,
        municipality_after=event.municipality_after,
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
