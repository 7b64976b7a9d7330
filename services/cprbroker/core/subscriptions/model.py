"""Subscriptions as SF1320_A / SF6002 know them: who subscribes, where events
go, which events they want and in how much detail.

These are plain frozen values. Building them from outside input (with
validation and JSON-pointer errors) is :mod:`.documents`; deciding whether an
event matches a filter is :mod:`.matching`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from .facts import normalize_house_number


@dataclass(frozen=True)
class Endpoint:
    """The webhook that receives a subscription's events, and the key that signs them.

    ``secret`` is a Standard Webhooks ``whsec_`` secret
    (:mod:`cprbroker.core.delivery.signing` makes and reads them).
    """

    url: str
    secret: str

    def __repr__(self) -> str:
        # The secret must never reach a log line through a repr.
        return f"Endpoint(url={self.url!r}, secret='whsec_***')"


@dataclass(frozen=True)
class AgeRange:
    """Ages at the event, both ends inclusive; ``None`` leaves that end open."""

    min: int | None = None
    max: int | None = None

    def contains(self, age: int) -> bool:
        """Whether ``age`` lies within the range."""
        if self.min is not None and age < self.min:
            return False
        return self.max is None or age <= self.max


@dataclass(frozen=True)
class AddressCriterion:
    """An address a subscription follows: a road in a municipality, optionally one house.

    ``house_number`` is normalised like :class:`.facts.AddressKey`'s.
    """

    municipality: str
    road_code: str
    house_number: str | None = None

    def __post_init__(self) -> None:
        if self.house_number is not None:
            object.__setattr__(self, "house_number", normalize_house_number(self.house_number))


@dataclass(frozen=True)
class Filter:
    """Which events a subscription wants.

    Each criterion left at ``None`` (or ``pnr_list=False``) does not restrict.
    Criteria combine with AND, values within one criterion with OR, and a
    filter with no criterion at all is a catch-all. ``include_derived=False``
    refuses events that reached the person as a consequence of another
    person's event (a derived mark such as ÆG).
    """

    event_types: frozenset[str] | None = None
    cpr_event_codes: frozenset[str] | None = None
    pnr_list: bool = False
    municipalities: frozenset[str] | None = None
    age: AgeRange | None = None
    addresses: tuple[AddressCriterion, ...] | None = None
    include_derived: bool = True

    def criteria(self) -> tuple[str, ...]:
        """Names of the criteria that restrict this filter, in document order."""
        names: list[str] = []
        if self.event_types is not None:
            names.append("event_types")
        if self.cpr_event_codes is not None:
            names.append("cpr_event_codes")
        if self.pnr_list:
            names.append("pnr_list")
        if self.municipalities is not None:
            names.append("municipalities")
        if self.age is not None:
            names.append("age")
        if self.addresses is not None:
            names.append("addresses")
        if not self.include_derived:
            names.append("include_derived")
        return tuple(names)

    @property
    def is_catch_all(self) -> bool:
        """Whether every event matches."""
        return not self.criteria()


CATCH_ALL = Filter()


class PayloadLevel(StrEnum):
    """How much of the person a delivered event carries."""

    FULL = "full"  # the event plus the person's current snapshot, as SF1320_A
    THIN = "thin"  # the event's identity only; the subscriber looks the person up


class SubscriptionState(StrEnum):
    """Whether deliveries flow."""

    ACTIVE = "active"
    PAUSED = "paused"  # stopped by the subscriber
    DISABLED = "disabled"  # stopped by the broker or an operator, with a reason


@dataclass(frozen=True)
class SubscriptionStatus:
    """A state, and for ``disabled`` the reason (required, and only there)."""

    state: SubscriptionState = SubscriptionState.ACTIVE
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.state is SubscriptionState.DISABLED:
            if not self.reason:
                raise ValueError("a disabled subscription needs a reason")
        elif self.reason is not None:
            raise ValueError(f"only a disabled subscription has a reason, not {self.state}")

    @classmethod
    def disabled(cls, reason: str) -> SubscriptionStatus:
        """The status of a subscription the broker stopped, saying why."""
        return cls(SubscriptionState.DISABLED, reason)


ACTIVE = SubscriptionStatus()
PAUSED = SubscriptionStatus(SubscriptionState.PAUSED)


@dataclass(frozen=True)
class Subscription:
    """One subscription of one API client (the subscribing system)."""

    id: str
    owner: str
    name: str
    endpoint: Endpoint
    filter: Filter
    payload_level: PayloadLevel = PayloadLevel.FULL
    status: SubscriptionStatus = ACTIVE
    created_at: datetime | None = None
    updated_at: datetime | None = None
