"""Per-subscription concurrency limits, so one subscription's backlog cannot
take every connection and a slow endpoint is never hit by more than a few
requests at once."""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

from cprbroker.core.errors import DeliveryPolicyError


class _Slot:
    """The attempts of one subscription: ``holding`` run, ``waiters`` queue
    (first come, first served) for one of them to finish."""

    __slots__ = ("holding", "waiters")

    def __init__(self) -> None:
        self.holding = 0
        self.waiters: deque[asyncio.Future[None]] = deque()


class SubscriptionLimiter:
    """At most ``per_subscription`` concurrent attempts per subscription id.
    Idle subscriptions hold no state, so the map stays as small as the set of
    subscriptions currently sending.

    A counter and a queue of waiters rather than an ``asyncio.Semaphore`` per
    subscription: almost every delivery finds a free slot, and then taking it
    is a counter increment, not a semaphore built and awaited.
    """

    def __init__(self, per_subscription: int = 4) -> None:
        if per_subscription < 1:
            raise DeliveryPolicyError(
                f"per-subscription limit must be >= 1, got {per_subscription}"
            )
        self.per_subscription = per_subscription
        self._slots: dict[str, _Slot] = {}

    def in_flight(self, subscription_id: str) -> int:
        """Attempts holding or waiting for a slot of ``subscription_id``."""
        slot = self._slots.get(subscription_id)
        return slot.holding + len(slot.waiters) if slot is not None else 0

    def slot(self, subscription_id: str) -> _Held:
        """Hold one of the subscription's slots for the duration of an
        ``async with`` block, waiting for one to free up if all are taken."""
        return _Held(self, subscription_id)

    def _take(self, subscription_id: str) -> bool:
        """Take a free slot at once if there is one (no waiting, no coroutine)."""
        slot = self._slots.get(subscription_id)
        if slot is None:
            slot = self._slots[subscription_id] = _Slot()
        if slot.holding < self.per_subscription and not slot.waiters:
            slot.holding += 1
            return True
        return False

    async def _wait(self, subscription_id: str) -> None:
        """Queue for the next slot a holder of ``subscription_id`` frees."""
        slot = self._slots[subscription_id]
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        slot.waiters.append(waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():
                # Handed a slot just as it was cancelled: pass the slot on.
                self._release(subscription_id)
            else:
                # A holder finishing meanwhile may have dropped it already.
                if waiter in slot.waiters:
                    slot.waiters.remove(waiter)
                self._forget_if_idle(subscription_id, slot)
            raise
        # A finishing holder handed its slot over: ``holding`` is unchanged.

    def _release(self, subscription_id: str) -> None:
        slot = self._slots[subscription_id]
        while slot.waiters:
            waiter = slot.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        slot.holding -= 1
        self._forget_if_idle(subscription_id, slot)

    def _forget_if_idle(self, subscription_id: str, slot: _Slot) -> None:
        if slot.holding == 0 and not slot.waiters and self._slots.get(subscription_id) is slot:
            del self._slots[subscription_id]


class _Held:
    """One slot of a subscription as an async context manager: a plain class,
    because it is entered once per delivery and a generator-based one costs
    several times as much."""

    __slots__ = ("_limiter", "_subscription_id")

    def __init__(self, limiter: SubscriptionLimiter, subscription_id: str) -> None:
        self._limiter = limiter
        self._subscription_id = subscription_id

    async def __aenter__(self) -> None:
        if not self._limiter._take(self._subscription_id):
            await self._limiter._wait(self._subscription_id)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._limiter._release(self._subscription_id)
