"""Redriving dead letters when a subscription becomes active again.

A disabled (or paused) subscription's deliveries end in the dead-letter
topic. When it is re-enabled, every dead letter of it written since the last
redrive goes back onto ``cpr.deliveries`` as a fresh delivery (same
``webhook-id``), and the cursor moves past them. The ledger also records that
a subscription went inactive, so a re-enable that happened while the role was
down is redriven at the next start (:meth:`Redriver.reconcile`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog

from cprbroker.adapters.delivery_dlq import DlqCursor, RedriveLedger, RedriveState, Resend
from cprbroker.adapters.delivery_outbox import RecordSink
from cprbroker.adapters.delivery_records import DeliveryRecord, Origin
from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.core.errors import InfrastructureError
from cprbroker.core.subscriptions import Subscription
from cprbroker.delivery.view import SubscriptionView

log = structlog.get_logger(__name__)

_RETRY_PAUSE = 5.0


class DeadLetters(Protocol):
    """Reads a subscription's dead letters from a cursor on."""

    async def replay(
        self, subscription_id: str, start: DlqCursor | None, resend: Resend
    ) -> DlqCursor:
        """Call ``resend`` for each dead letter after ``start``; return the new cursor."""
        ...


class Redriver:
    """Follows status transitions and redrives dead letters on re-enable.

    ``settle`` (seconds) is waited before reading the dead letters, so a
    delivery that saw the subscription still disabled a moment ago has landed
    in the dead-letter topic before the read decides where its end is.
    """

    def __init__(
        self,
        ledger: RedriveLedger,
        dead_letters: DeadLetters,
        sink: RecordSink,
        deliveries_topic: str,
        metrics: DeliveryMetrics,
        *,
        settle: float = 1.0,
    ) -> None:
        self._ledger = ledger
        self._dead_letters = dead_letters
        self._sink = sink
        self._deliveries_topic = deliveries_topic
        self._metrics = metrics
        self._settle = settle
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- listeners of the subscription view (synchronous) ---------------------

    def activated(self, subscription: Subscription) -> None:
        """The subscription became active: redrive its dead letters."""
        subscription_id = subscription.id
        self._spawn(lambda: self.redrive(subscription_id))

    def deactivated(self, subscription: Subscription) -> None:
        """The subscription was paused or disabled: note it in the ledger."""
        subscription_id = subscription.id
        self._spawn(lambda: self._mark_inactive(subscription_id))

    def _spawn(self, work: Callable[[], Awaitable[object]]) -> None:
        task = asyncio.get_running_loop().create_task(self._persist(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    async def _persist(work: Callable[[], Awaitable[object]]) -> None:
        # Kafka may be away for a while: keep trying until it answers or we stop.
        while True:
            try:
                await work()
            except InfrastructureError as exc:
                log.warning("delivery.redrive_retry", error=str(exc))
                await asyncio.sleep(_RETRY_PAUSE)
            else:
                return

    # -- the work ---------------------------------------------------------------

    async def reconcile(self, view: SubscriptionView) -> None:
        """At start-up: note subscriptions that are inactive now, and redrive
        those the ledger knew inactive that are active now."""
        states = self._ledger.all()
        for subscription in view.inactive_now():
            state = states.get(subscription.id)
            if state is None or state.active:
                await self._mark_inactive(subscription.id)
        for subscription in view.active_now():
            state = states.get(subscription.id)
            if state is not None and not state.active:
                await self.redrive(subscription.id)

    async def redrive(self, subscription_id: str) -> int:
        """Send every dead letter of the subscription since the last redrive
        again; return how many."""
        async with self._lock(subscription_id):
            await asyncio.sleep(self._settle)
            state = self._ledger.get(subscription_id)
            count = 0

            async def resend(dead: DeliveryRecord) -> None:
                nonlocal count
                fresh = dead.fresh(Origin.REDRIVE)
                await self._sink.send(self._deliveries_topic, fresh.key(), fresh.encode())
                count += 1

            cursor = await self._dead_letters.replay(
                subscription_id, state.cursor if state is not None else None, resend
            )
            await self._sink.flush()
            await self._ledger.put(subscription_id, RedriveState(True, cursor))
        self._metrics.redriven.inc(count)
        log.info("delivery.redriven", subscription_id=subscription_id, dead_letters=count)
        return count

    async def _mark_inactive(self, subscription_id: str) -> None:
        async with self._lock(subscription_id):
            state = self._ledger.get(subscription_id)
            cursor = state.cursor if state is not None else None
            await self._ledger.put(subscription_id, RedriveState(False, cursor))

    def _lock(self, subscription_id: str) -> asyncio.Lock:
        lock = self._locks.get(subscription_id)
        if lock is None:
            lock = self._locks[subscription_id] = asyncio.Lock()
        return lock

    async def idle(self) -> None:
        """Wait until no redrive or ledger write is under way."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        """Cancel work under way (a cancelled redrive runs again at the next start:
        the ledger still says inactive)."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
