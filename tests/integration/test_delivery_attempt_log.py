"""The attempt log's batched writes on Kafka: many subscriptions' entries,
packed into one batch per partition, each land on the partition of its
subscription's key and read back in order."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer
from tests.conftest import TopicFactory

from cprbroker.adapters.delivery_attempts import (
    AttemptLogEntry,
    AttemptQuery,
    AttemptStatus,
    KafkaAttemptLog,
    read_attempts,
)

SUBSCRIPTIONS = 60


def entry(subscription: int, attempt: int) -> AttemptLogEntry:
    return AttemptLogEntry(
        at=time.time(),
        subscription_id=f"sub-{subscription:03d}",
        delivery_id=f"msg_{subscription:03d}_{attempt}",
        event_id=f"ev-{attempt}",
        event_type="cpr.person.moved",
        attempt=1,
        status=AttemptStatus.DELIVERED,
        stage="send",
        http_status=204,
        latency_ms=1.5,
    )


async def test_every_subscription_reads_back_its_own_entries_in_order(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("attempts", partitions=6)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        log = KafkaAttemptLog(producer, topic, max_pending=100)
        for attempt in range(5):
            for subscription in range(SUBSCRIPTIONS):
                await log.append(entry(subscription, attempt))
        await log.flush()
    finally:
        await producer.stop()
    for subscription in (0, 17, SUBSCRIPTIONS - 1):
        page = await read_attempts(
            kafka_bootstrap, topic, AttemptQuery(f"sub-{subscription:03d}", limit=100)
        )
        assert [e.delivery_id for e in page.entries] == [
            f"msg_{subscription:03d}_{attempt}" for attempt in range(5)
        ]
