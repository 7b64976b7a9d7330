"""Per-subscription concurrency limits, so one subscription's backlog cannot
take every connection and a slow endpoint is never hit by more than a few
requests at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import TracebackType

from cprbroker.core.errors import DeliveryPolicyError


@dataclass
class _Slot:
    semaphore: asyncio.Semaphore
    users: int = field(default=0)


class SubscriptionLimiter:
    """At most ``per_subscription`` concurrent attempts per subscription id.
    Idle subscriptions hold no state, so the map stays as small as the set of
    subscriptions currently sending."""

    def __init__(self, per_subscription: int = 4) -> None:
        if per_subscription < 1:
            raise DeliveryPolicyError(
                f"per-subscription limit must be >= 1, got {per_subscription}"
            )
        self.per_subscription = per_subscription
        self._slots: dict[str, _Slot] = {}

    @property
    def subscriptions(self) -> int:
        """How many subscriptions hold state now: those holding or waiting for a slot."""
        return len(self._slots)

    def in_flight(self, subscription_id: str) -> int:
        """Attempts holding or waiting for a slot of ``subscription_id``."""
        slot = self._slots.get(subscription_id)
        return slot.users if slot is not None else 0

    def slot(self, subscription_id: str) -> _Held:
        """Hold one of the subscription's slots for the duration of an
        ``async with`` block, waiting for one to free up if all are taken."""
        return _Held(self, subscription_id)

    async def _acquire(self, subscription_id: str) -> None:
        slot = self._slots.get(subscription_id)
        if slot is None:
            slot = self._slots[subscription_id] = _Slot(asyncio.Semaphore(self.per_subscription))
        slot.users += 1
        try:
            await slot.semaphore.acquire()
        except BaseException:
            self._leave(subscription_id, slot)
            raise

    def _release(self, subscription_id: str) -> None:
        slot = self._slots[subscription_id]
        slot.semaphore.release()
        self._leave(subscription_id, slot)

    def _leave(self, subscription_id: str, slot: _Slot) -> None:
        slot.users -= 1
        if slot.users == 0:
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
        await self._limiter._acquire(self._subscription_id)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._limiter._release(self._subscription_id)
