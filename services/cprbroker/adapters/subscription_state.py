"""Subscriptions and their CPR-number lists, materialised from compacted topics.

Two topics hold the state (architecture, "Topics"):

* ``cpr.subscriptions``: key = subscription id, value = the subscription
  document (:func:`~cprbroker.core.subscriptions.subscription_to_document`,
  JSON, with its secret), tombstone = deleted;
* ``cpr.subscription-pnrs``: key = ``<subscription id>:<PNR>``, value ``b"1"``
  = on the list, tombstone = removed.

Every API and delivery process builds a :class:`SubscriptionStore` from them.
Lists are kept as a set of ints per subscription (a million PNRs cost about
70 MB), with a sorted copy built lazily for paging. Records of a list may
arrive before their subscription (the topics are read independently); they
are kept and belong to it when it appears.

Delivery can follow changes with :meth:`SubscriptionStore.add_listener` and
:meth:`SubscriptionStore.add_pnr_listener`, e.g. to feed a
:class:`~cprbroker.core.subscriptions.SubscriptionIndex`.
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import structlog

from cprbroker.adapters.state_store import Apply, Record, StateLog
from cprbroker.core.errors import ValidationError
from cprbroker.core.subscriptions import (
    Subscription,
    subscription_from_document,
    subscription_to_document,
)
from cprbroker.core.topics import TopicNames

log = structlog.get_logger(__name__)

SubscriptionListener = Callable[[str, Subscription | None], None]
PnrListener = Callable[[str, str, bool], None]  # subscription id, PNR, on the list
OpenLog = Callable[[str, Apply], StateLog]

_PRESENT = b"1"
# How many records one write carries when a whole list is removed.
_WRITE_CHUNK = 10_000


class PnrPage(NamedTuple):
    """One page of a CPR-number list: the PNRs (ascending) and the last one, if more follow."""

    pnrs: list[str]
    next_after: int | None


def pnr_key(subscription_id: str, pnr: str) -> bytes:
    """The key of ``pnr`` on ``subscription_id``'s list."""
    return f"{subscription_id}:{pnr}".encode("ascii")


class SubscriptionStore:
    """Every subscription and CPR-number list, with read-your-writes changes."""

    def __init__(self, open_log: OpenLog, topics: TopicNames) -> None:
        self._subscriptions: dict[str, Subscription] = {}
        self._by_owner: dict[str, set[str]] = {}
        self._lists: dict[str, set[int]] = {}
        self._sorted: dict[str, array[int]] = {}
        self._listeners: list[SubscriptionListener] = []
        self._pnr_listeners: list[PnrListener] = []
        self._subscription_log = open_log(topics.subscriptions, self._apply_subscription)
        self._pnr_log = open_log(topics.subscription_pnrs, self._apply_pnr)

    @property
    def logs(self) -> tuple[StateLog, StateLog]:
        """The two state logs (started and stopped by the owner, lists first)."""
        return self._pnr_log, self._subscription_log

    def add_listener(self, listener: SubscriptionListener) -> None:
        """Call ``listener(id, subscription or None)`` for every change applied from now on."""
        self._listeners.append(listener)

    def add_pnr_listener(self, listener: PnrListener) -> None:
        """Call ``listener(id, pnr, on_list)`` for every list change applied from now on."""
        self._pnr_listeners.append(listener)

    # -- applying records --------------------------------------------------

    def _apply_subscription(self, key: bytes, value: bytes | None) -> None:
        subscription_id = key.decode("utf-8", errors="replace")
        subscription: Subscription | None = None
        if value is not None:
            try:
                subscription = subscription_from_document(json.loads(value))
            except (ValueError, ValidationError):
                # Not ours to fix here; skipping keeps the rest of the state usable.
                log.warning("subscriptions.bad_record", subscription_id=subscription_id)
                return
        old = self._subscriptions.pop(subscription_id, None)
        if old is not None:
            self._by_owner.get(old.owner, set()).discard(subscription_id)
        if subscription is not None:
            self._subscriptions[subscription_id] = subscription
            self._by_owner.setdefault(subscription.owner, set()).add(subscription_id)
        for listener in self._listeners:
            listener(subscription_id, subscription)

    def _apply_pnr(self, key: bytes, value: bytes | None) -> None:
        subscription_id, _, pnr = key.decode("ascii", errors="replace").rpartition(":")
        if not subscription_id or len(pnr) != 10 or not pnr.isdigit():
            log.warning("subscription_pnrs.bad_key")
            return
        number = int(pnr)
        members = self._lists.get(subscription_id)
        if value is not None:
            if members is None:
                members = self._lists[subscription_id] = set()
            members.add(number)
        elif members is not None:
            members.discard(number)
            if not members:
                del self._lists[subscription_id]
        self._sorted.pop(subscription_id, None)
        for listener in self._pnr_listeners:
            listener(subscription_id, pnr, value is not None)

    # -- reading -----------------------------------------------------------

    def get(self, subscription_id: str) -> Subscription | None:
        """The subscription with ``subscription_id``, or None."""
        return self._subscriptions.get(subscription_id)

    def owned_by(self, owner: str) -> list[Subscription]:
        """The subscriptions of client ``owner``, oldest first."""
        found = (self._subscriptions[i] for i in self._by_owner.get(owner, ()))
        return sorted(found, key=_creation_order)

    def all(self) -> list[Subscription]:
        """Every subscription, oldest first."""
        return sorted(self._subscriptions.values(), key=_creation_order)

    def __len__(self) -> int:
        return len(self._subscriptions)

    def on_list(self, subscription_id: str, pnr: str) -> bool:
        """Whether ``pnr`` is on the list of ``subscription_id``."""
        members = self._lists.get(subscription_id)
        return members is not None and int(pnr) in members

    def list_size(self, subscription_id: str) -> int:
        """How many PNRs are on the list of ``subscription_id``."""
        return len(self._lists.get(subscription_id, ()))

    def page(self, subscription_id: str, after: int | None, limit: int) -> PnrPage:
        """Up to ``limit`` PNRs of the list greater than ``after``, ascending."""
        ordered = self._sorted.get(subscription_id)
        if ordered is None:
            ordered = array("q", sorted(self._lists.get(subscription_id, ())))
            self._sorted[subscription_id] = ordered
        start = 0 if after is None else bisect_right(ordered, after)
        chunk = ordered[start : start + limit]
        more = start + limit < len(ordered)
        pnrs = [f"{number:010d}" for number in chunk]
        return PnrPage(pnrs, chunk[-1] if more and chunk else None)

    # -- writing -----------------------------------------------------------

    async def put(self, subscription: Subscription) -> None:
        """Store ``subscription`` (new or changed); return once it is readable here."""
        document = subscription_to_document(subscription, include_secret=True)
        value = json.dumps(document, separators=(",", ":")).encode("utf-8")
        await self._subscription_log.write([(subscription.id.encode("utf-8"), value)])

    async def delete(self, subscription_id: str) -> int:
        """Delete the subscription and its list; return how many PNRs were on it.

        The list goes first: if the process dies half-way, the subscription
        is still there and deleting it again finishes the job.
        """
        removed = await self.clear(subscription_id)
        await self._subscription_log.write([(subscription_id.encode("utf-8"), None)])
        return removed

    async def change_list(
        self, subscription_id: str, add: Iterable[str] = (), remove: Iterable[str] = ()
    ) -> None:
        """Put ``add`` on and take ``remove`` off the list, in one write.

        The caller decides which changes are needed (SF6002 answers); this
        writes exactly what it is given.
        """
        records: list[Record] = [(pnr_key(subscription_id, p), _PRESENT) for p in add]
        records.extend((pnr_key(subscription_id, p), None) for p in remove)
        await self._write_chunked(records)

    async def clear(self, subscription_id: str) -> int:
        """Remove every PNR from the list of ``subscription_id``; return how many."""
        numbers = sorted(self._lists.get(subscription_id, ()))
        await self._write_chunked([(pnr_key(subscription_id, f"{n:010d}"), None) for n in numbers])
        return len(numbers)

    def members(self, subscription_id: str) -> list[str]:
        """Every PNR on the list, ascending (for audit entries of bulk changes)."""
        return [f"{n:010d}" for n in sorted(self._lists.get(subscription_id, ()))]

    async def _write_chunked(self, records: Sequence[Record]) -> None:
        for start in range(0, len(records), _WRITE_CHUNK):
            await self._pnr_log.write(records[start : start + _WRITE_CHUNK])


def _creation_order(subscription: Subscription) -> tuple[str, str]:
    created = subscription.created_at.isoformat() if subscription.created_at else ""
    return created, subscription.id
