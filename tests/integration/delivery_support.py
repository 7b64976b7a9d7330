"""Running the delivery role against the real Kafka in tests: settings on topics
of the test's own, writing subscriptions and clients, publishing events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any

from aiokafka import AIOKafkaProducer
from tests.service.delivery_harness import LOOPBACK_CIDRS

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.delivery_records import DeliveryRecord, decode_delivery
from cprbroker.adapters.delivery_scan import ScanProgress, ScanWindow, scan_key_partition
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.core.delivery.retry import RetryAfterClamp, RetryLadder, ShortRetryPolicy
from cprbroker.core.events.event import BusinessEvent
from cprbroker.core.subscriptions import Subscription
from cprbroker.core.topics import TopicNames
from cprbroker.delivery.runner import DeliveryRunner, start_delivery
from cprbroker.delivery.settings import CircuitSettings, DeliverySettings


def own_topics(run: str) -> TopicNames:
    """Every topic name with a prefix of this run's own."""
    names = TopicNames()
    return replace(
        names,
        **{
            field: f"test.dlv.{run}.{getattr(names, field)}"
            for field in (
                "events",
                "subscriptions",
                "subscription_pnrs",
                "clients",
                "deliveries",
                "deliveries_dlq",
                "delivery_attempts",
                "audit",
            )
        },
    )


def delivery_settings(bootstrap: str, **changes: Any) -> DeliverySettings:
    """Settings for a test: own topics and group, a ladder of seconds, short
    retries within a second, loopback allowed, metrics on a free port."""
    run = uuid.uuid4().hex[:8]
    settings = DeliverySettings(
        bootstrap_servers=bootstrap,
        topics=own_topics(run),
        group_id=f"test.dlv.{run}",
        ladder=RetryLadder((1.0, 2.0), jitter=0.0),
        short_retry=ShortRetryPolicy(attempts=2, deadline=1.0, wait_initial=0.05, wait_jitter=0),
        retry_after_clamp=RetryAfterClamp(0.0, 30.0),
        circuit=CircuitSettings(failure_threshold=5, open_seconds=1.0, max_open_seconds=2.0),
        callback_allow_cidrs=LOOPBACK_CIDRS,
        metrics_port=0,
        topic_partitions=3,
        commit_interval=0.2,
        drain_timeout=5.0,
    )
    return replace(settings, **changes)


@dataclass
class StateWriter:
    """Writes subscriptions and clients the way the API does."""

    store: SubscriptionStore
    clients: ClientRegistry

    async def subscribe(self, subscription: Subscription) -> Subscription:
        await self.store.put(subscription)
        return subscription


@asynccontextmanager
async def state_writer(settings: DeliverySettings) -> AsyncIterator[StateWriter]:
    """A subscription store and client registry on the test's topics."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()

    def open_log(topic: str, apply: Apply) -> StateLog:
        return KafkaStateLog(settings.bootstrap_servers, topic, apply, producer)

    store = SubscriptionStore(open_log, settings.topics)
    clients = ClientRegistry(open_log, settings.topics.clients)
    logs = [*store.logs, clients.log]
    try:
        for state_log in logs:
            await state_log.start()
        if clients.get("sagssystem") is None:
            await clients.create("sagssystem")
        yield StateWriter(store, clients)
    finally:
        for state_log in logs:
            await state_log.stop()
        await producer.stop()


@asynccontextmanager
async def running(settings: DeliverySettings) -> AsyncIterator[DeliveryRunner]:
    """The delivery role in this process for the length of the block."""
    runner = await start_delivery(settings)
    try:
        yield runner
    finally:
        await runner.stop()


async def publish(bootstrap: str, topic: str, events: Iterable[BusinessEvent]) -> dict[str, float]:
    """Produce ``events`` (Avro, key = PNR); return the record time of each by event id."""
    codec = default_codec()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        pending = [
            (
                event.id,
                await producer.send(topic, key=event.pnr.encode(), value=codec.encode(event)),
            )
            for event in events
        ]
        times: dict[str, float] = {}
        for event_id, future in pending:
            metadata = await future
            times[event_id] = metadata.timestamp / 1000
        return times
    finally:
        await producer.stop()


async def read_keyed(bootstrap: str, topic: str, subscription_id: str) -> list[DeliveryRecord]:
    """The delivery records of one subscription on ``topic`` (e.g. the DLQ)."""
    key = subscription_id.encode()
    scan = scan_key_partition(bootstrap, topic, key, ScanWindow(), ScanProgress())
    async with aclosing(scan) as records:
        return [
            decode_delivery(record.value)
            async for record in records
            if record.key == key and record.value is not None
        ]
