"""What the index keeps under one anchor key: subscriptions split by what is
left to check once the anchor criterion is known to hold.

Most filters leave nothing to check, or only "not derived", or only "one of
these event types" (SF1320 subscribers commonly narrow a PNR list or a
municipality to a few event types). Those are kept in plain sets, so finding
them is a set union; only the rare remaining filters are run through
:func:`.matching.matches`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .facts import EventFacts
from .matching import matches
from .model import Filter


class Rest(Enum):
    """What is left of a filter once its anchor criterion holds."""

    NOTHING = "nothing"  # apart, perhaps, from "not derived"
    TYPES = "types"  # one of the listed event types, perhaps "not derived"
    FILTER = "filter"  # anything else: run the whole filter


@dataclass(frozen=True)
class Residual:
    """The part of one subscription's filter its anchor does not decide."""

    rest: Rest
    own_only: bool
    types: frozenset[str]
    filter: Filter

    @classmethod
    def of(cls, filter_: Filter, anchor: str) -> Residual:
        """The residual of ``filter_`` when the criterion named ``anchor`` holds.

        ``anchor="addresses"`` never leaves nothing: the bucket key is the
        road, and a criterion may also name a house.
        """
        left = set(filter_.criteria()) - {anchor, "include_derived"}
        own_only = not filter_.include_derived
        if anchor == "addresses":
            rest = Rest.FILTER
        elif not left:
            rest = Rest.NOTHING
        elif left == {"event_types"}:
            rest = Rest.TYPES
        else:
            rest = Rest.FILTER
        return cls(rest, own_only, filter_.event_types or frozenset(), filter_)

    def admits(self, facts: EventFacts, on_list: tuple[str, ...]) -> bool:
        """Whether the event passes the rest of the filter (``on_list``: the
        list the anchor found the person on, for filters that also need it)."""
        if self.rest is Rest.FILTER:
            return matches(self.filter, facts, on_list)
        if self.own_only and facts.is_derived:
            return False
        return self.rest is Rest.NOTHING or facts.type in self.types


class _Pair:
    """Subscriptions that match outright, and those that match own events only."""

    __slots__ = ("all_events", "own_events")

    def __init__(self) -> None:
        self.all_events: set[str] = set()
        self.own_events: set[str] = set()

    def target(self, residual: Residual) -> set[str]:
        return self.own_events if residual.own_only else self.all_events

    def __bool__(self) -> bool:
        return bool(self.all_events or self.own_events)


_NO_LIST: tuple[str, ...] = ()


class Bucket:
    """The subscriptions filed under one anchor key."""

    __slots__ = ("_checked", "_plain", "_typed")

    def __init__(self) -> None:
        self._plain = _Pair()
        self._typed: dict[str, _Pair] = {}
        self._checked: dict[str, Filter] = {}

    def __bool__(self) -> bool:
        return bool(self._plain or self._typed or self._checked)

    def add(self, subscription_id: str, residual: Residual) -> None:
        """File a subscription with the residual it leaves here."""
        if residual.rest is Rest.NOTHING:
            self._plain.target(residual).add(subscription_id)
        elif residual.rest is Rest.TYPES:
            for event_type in residual.types:
                self._typed.setdefault(event_type, _Pair()).target(residual).add(subscription_id)
        else:
            self._checked[subscription_id] = residual.filter

    def discard(self, subscription_id: str, residual: Residual) -> None:
        """Take out a subscription filed with ``residual``."""
        if residual.rest is Rest.NOTHING:
            self._plain.target(residual).discard(subscription_id)
        elif residual.rest is Rest.TYPES:
            for event_type in residual.types:
                pair = self._typed[event_type]
                pair.target(residual).discard(subscription_id)
                if not pair:
                    del self._typed[event_type]
        else:
            self._checked.pop(subscription_id, None)

    def collect(self, facts: EventFacts, derived: bool, found: set[str]) -> None:
        """Add to ``found`` every subscription here that the event matches,
        given that it satisfies the anchor criterion; ``derived`` is
        ``facts.is_derived``, worked out once per event by the caller."""
        plain = self._plain
        found.update(plain.all_events)
        if not derived:
            found.update(plain.own_events)
        typed = self._typed.get(facts.type)
        if typed is not None:
            found.update(typed.all_events)
            if not derived:
                found.update(typed.own_events)
        for subscription_id, filter_ in self._checked.items():
            # A filter with a PNR list is anchored on the list, never here.
            if matches(filter_, facts, _NO_LIST):
                found.add(subscription_id)
