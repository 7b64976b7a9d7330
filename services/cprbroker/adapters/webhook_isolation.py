"""Per-subscription concurrency limits, so one subscription's backlog cannot
take every connection and a slow endpoint is never hit by more than a few
requests at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

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

    def in_flight(self, subscription_id: str) -> int:
        """Attempts holding or waiting for a slot of ``subscription_id``."""
        slot = self._slots.get(subscription_id)
        return slot.users if slot is not None else 0

    @asynccontextmanager
    async def slot(self, subscription_id: str) -> AsyncIterator[None]:
        """Hold one of the subscription's slots for the duration of the block,
        waiting for one to free up if all are taken."""
        slot = self._slots.get(subscription_id)
        if slot is None:
            slot = self._slots[subscription_id] = _Slot(asyncio.Semaphore(self.per_subscription))
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if slot.users == 0:
                del self._slots[subscription_id]
