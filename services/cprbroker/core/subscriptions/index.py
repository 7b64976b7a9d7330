"""All subscriptions compiled for matching many events fast.

Each subscription is filed under one *anchor*: the most selective criterion
it has, in the order PNR list, address, municipality, age, event type, CPR
change code, and otherwise a short list checked for every event (catch-alls).
An event looks up only the buckets its own facts point at, so the cost per
event follows the number of subscriptions that could match, not the number
that exist. Within a bucket, subscriptions are split by what the anchor
leaves to check (see :mod:`.buckets`): nothing, "not derived", or a few event
types are set lookups; only other combinations run
:func:`.matching.matches`, which stays the one definition of filter
semantics.

The index is materialised from compacted topics, so every change is
incremental: subscriptions are put and removed, PNRs added to and removed
from value lists, in any order. A value list may exist before (or after) its
subscription document; it is kept and used as soon as both are there.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from enum import Enum

from .buckets import Bucket, Residual
from .facts import EventFacts
from .model import AgeRange, Filter, Subscription

_NO_PNRS: frozenset[str] = frozenset()


class _Anchor(Enum):
    PNR = "pnr_list"
    ADDRESS = "addresses"
    MUNICIPALITY = "municipalities"
    EVENT_TYPE = "event_types"
    CPR_CODE = "cpr_event_codes"
    AGE = "age"
    SCAN = "scan"


@dataclass(frozen=True)
class _Placement:
    anchor: _Anchor
    keys: tuple[Hashable, ...]
    residual: Residual


def _place(filter_: Filter) -> _Placement:
    anchor: _Anchor
    keys: tuple[Hashable, ...] = ()
    if filter_.pnr_list:
        anchor = _Anchor.PNR
    elif filter_.addresses is not None:
        anchor = _Anchor.ADDRESS
        keys = tuple(dict.fromkeys((a.municipality, a.road_code) for a in filter_.addresses))
    elif filter_.municipalities is not None:
        anchor, keys = _Anchor.MUNICIPALITY, tuple(filter_.municipalities)
    elif filter_.age is not None:
        # Before event types: an age bucket splits by type anyway, so "deaths
        # of persons over 80" costs a set lookup, not a filter run per death.
        anchor = _Anchor.AGE
    elif filter_.event_types is not None:
        anchor, keys = _Anchor.EVENT_TYPE, tuple(filter_.event_types)
    elif filter_.cpr_event_codes is not None:
        anchor, keys = _Anchor.CPR_CODE, tuple(filter_.cpr_event_codes)
    else:
        anchor = _Anchor.SCAN
    return _Placement(anchor, keys, Residual.of(filter_, anchor.value))


class SubscriptionIndex:
    """Every subscription and PNR value list, compiled for :meth:`match`.

    Status is not consulted: a paused or disabled subscription still
    matches, and the caller decides what that means for delivery.
    """

    def __init__(self) -> None:
        self._subscriptions: dict[str, Subscription] = {}
        self._placements: dict[str, _Placement] = {}
        self._lists: dict[str, set[str]] = {}
        self._by_pnr: dict[str, tuple[str, ...]] = {}
        self._pnr_anchored: dict[str, Residual] = {}
        self._keyed: dict[_Anchor, dict[Hashable, Bucket]] = {
            anchor: {}
            for anchor in (
                _Anchor.ADDRESS,
                _Anchor.MUNICIPALITY,
                _Anchor.EVENT_TYPE,
                _Anchor.CPR_CODE,
            )
        }
        # The same dicts by name: match() is hot, and enum hashing is not free.
        self._by_road = self._keyed[_Anchor.ADDRESS]
        self._by_municipality = self._keyed[_Anchor.MUNICIPALITY]
        self._by_type = self._keyed[_Anchor.EVENT_TYPE]
        self._by_code = self._keyed[_Anchor.CPR_CODE]
        self._scan = Bucket()
        self._aged: dict[str, tuple[AgeRange, Residual]] = {}
        # One bucket per age seen, built lazily from ``_aged`` and dropped
        # whenever an age-anchored subscription changes.
        self._by_age: dict[int, Bucket] = {}

    # -- subscriptions -----------------------------------------------------

    def put(self, subscription: Subscription) -> None:
        """Add ``subscription``, or replace the one with its id."""
        previous = self._subscriptions.get(subscription.id)
        self._subscriptions[subscription.id] = subscription
        if previous is not None:
            if previous.filter == subscription.filter:
                return  # a rename or status change: the compiled form stands
            self._unfile(subscription.id)
        self._file(subscription.id, subscription.filter)

    def remove(self, subscription_id: str) -> Subscription | None:
        """Forget a subscription; return it, or ``None`` if it was unknown.

        Its PNR value list is kept: the list is state of its own, removed
        PNR by PNR (or with :meth:`clear_pnrs`).
        """
        previous = self._subscriptions.pop(subscription_id, None)
        if previous is not None:
            self._unfile(subscription_id)
        return previous

    def get(self, subscription_id: str) -> Subscription | None:
        """The subscription with this id, if present."""
        return self._subscriptions.get(subscription_id)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def __contains__(self, subscription_id: object) -> bool:
        return subscription_id in self._subscriptions

    def __iter__(self) -> Iterator[Subscription]:
        return iter(list(self._subscriptions.values()))

    # -- PNR value lists ---------------------------------------------------

    def add_pnr(self, subscription_id: str, pnr: str) -> bool:
        """Put ``pnr`` on the subscription's list; ``False`` if it was already there."""
        members = self._lists.setdefault(subscription_id, set())
        if pnr in members:
            return False
        members.add(pnr)
        holders = self._by_pnr.get(pnr)
        self._by_pnr[pnr] = (subscription_id,) if holders is None else (*holders, subscription_id)
        return True

    def remove_pnr(self, subscription_id: str, pnr: str) -> bool:
        """Take ``pnr`` off the subscription's list; ``False`` if it was not there."""
        members = self._lists.get(subscription_id)
        if members is None or pnr not in members:
            return False
        members.remove(pnr)
        if not members:
            del self._lists[subscription_id]
        self._drop_holder(pnr, subscription_id)
        return True

    def clear_pnrs(self, subscription_id: str) -> int:
        """Empty the subscription's list; return how many PNRs it held."""
        members = self._lists.pop(subscription_id, None)
        if members is None:
            return 0
        for pnr in members:
            self._drop_holder(pnr, subscription_id)
        return len(members)

    def has_pnr(self, subscription_id: str, pnr: str) -> bool:
        """Whether ``pnr`` is on the subscription's list."""
        return pnr in self._lists.get(subscription_id, _NO_PNRS)

    def pnrs(self, subscription_id: str) -> frozenset[str]:
        """A copy of the subscription's list (empty if it has none)."""
        return frozenset(self._lists.get(subscription_id, _NO_PNRS))

    def pnr_count(self, subscription_id: str) -> int:
        """How many PNRs are on the subscription's list."""
        return len(self._lists.get(subscription_id, _NO_PNRS))

    def _drop_holder(self, pnr: str, subscription_id: str) -> None:
        holders = tuple(h for h in self._by_pnr[pnr] if h != subscription_id)
        if holders:
            self._by_pnr[pnr] = holders
        else:
            del self._by_pnr[pnr]

    # -- matching ----------------------------------------------------------

    def match(self, facts: EventFacts) -> set[str]:
        """Ids of every subscription whose filter matches the event.

        Exactly the subscriptions for which :func:`.matching.matches` is true
        with the subscription's own list; the set is new and the caller's.
        """
        found: set[str] = set()
        derived = facts.is_derived
        self._scan.collect(facts, derived, found)

        holders = self._by_pnr.get(facts.pnr)
        if holders is not None:
            anchored = self._pnr_anchored
            on_list = (facts.pnr,)  # the anchor found the person on each holder's list
            for subscription_id in holders:
                residual = anchored.get(subscription_id)
                if residual is not None and residual.admits(facts, on_list):
                    found.add(subscription_id)

        bucket = self._by_type.get(facts.type)
        if bucket is not None:
            bucket.collect(facts, derived, found)
        if facts.cpr_event_code is not None:
            bucket = self._by_code.get(facts.cpr_event_code)
            if bucket is not None:
                bucket.collect(facts, derived, found)
        by_municipality = self._by_municipality
        before, after = facts.municipality_before, facts.municipality_after
        if before is not None and (bucket := by_municipality.get(before)) is not None:
            bucket.collect(facts, derived, found)
        # A move within one municipality must not collect its bucket twice.
        if after != before and after is not None and (bucket := by_municipality.get(after)):
            bucket.collect(facts, derived, found)
        by_road = self._by_road
        if by_road:
            roads = {
                (address.municipality, address.road_code)
                for address in (facts.address_before, facts.address_after)
                if address is not None
            }
            for road in roads:
                if (bucket := by_road.get(road)) is not None:
                    bucket.collect(facts, derived, found)

        if self._aged and facts.age is not None:
            self._aged_at(facts.age).collect(facts, derived, found)
        return found

    def _aged_at(self, age: int) -> Bucket:
        bucket = self._by_age.get(age)
        if bucket is None:
            bucket = self._by_age[age] = Bucket()
            for subscription_id, (ages, residual) in self._aged.items():
                if ages.contains(age):
                    bucket.add(subscription_id, residual)
        return bucket

    # -- compiling ---------------------------------------------------------

    def _file(self, subscription_id: str, filter_: Filter) -> None:
        placement = _place(filter_)
        self._placements[subscription_id] = placement
        residual = placement.residual
        if placement.anchor is _Anchor.PNR:
            self._pnr_anchored[subscription_id] = residual
        elif placement.anchor is _Anchor.AGE and filter_.age is not None:
            self._aged[subscription_id] = (filter_.age, residual)
            self._by_age.clear()
        elif placement.anchor is _Anchor.SCAN:
            self._scan.add(subscription_id, residual)
        else:
            buckets = self._keyed[placement.anchor]
            for key in placement.keys:
                buckets.setdefault(key, Bucket()).add(subscription_id, residual)

    def _unfile(self, subscription_id: str) -> None:
        placement = self._placements.pop(subscription_id)
        residual = placement.residual
        if placement.anchor is _Anchor.PNR:
            del self._pnr_anchored[subscription_id]
        elif placement.anchor is _Anchor.AGE:
            del self._aged[subscription_id]
            self._by_age.clear()
        elif placement.anchor is _Anchor.SCAN:
            self._scan.discard(subscription_id, residual)
        else:
            buckets = self._keyed[placement.anchor]
            for key in placement.keys:
                bucket = buckets[key]
                bucket.discard(subscription_id, residual)
                if not bucket:
                    del buckets[key]
