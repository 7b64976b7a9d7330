"""A dead subscriber beside a healthy one: the healthy one's deliveries keep
their latency (at most the short-retry window more, in the worst case).

The bound is generous on purpose (the machine is shared): the healthy
receiver's median latency with a hanging neighbour must stay under the
short-retry window, and every healthy delivery must arrive.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaProducer
from tests.integration.delivery_support import delivery_settings, running, state_writer
from tests.service.delivery_harness import (
    Receiver,
    eventually,
    hang,
    make_event,
    make_subscription,
    serve_receiver,
    status,
)

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.webhook_http import WebhookHttpSettings
from cprbroker.core.delivery.retry import ShortRetryPolicy
from cprbroker.core.events.event import BusinessEvent

pytestmark = pytest.mark.slow

SHORT_WINDOW = 2.0
EVENTS_PER_PHASE = 40


@pytest.fixture
async def healthy() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        yield served


@pytest.fixture
async def dead() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        served.default("/hang", hang())
        served.default("/fail", status(500))
        yield served


async def publish_paced(
    producer: AIOKafkaProducer, topic: str, events: list[BusinessEvent]
) -> dict[str, float]:
    """Publish one event every 50 ms; the record time of each, by event id."""
    codec = default_codec()
    times: dict[str, float] = {}
    for event in events:
        metadata = await producer.send_and_wait(
            topic, key=event.pnr.encode(), value=codec.encode(event)
        )
        times[event.id] = metadata.timestamp / 1000
        await asyncio.sleep(0.05)
    return times


def latencies(receiver: Receiver, published: dict[str, float]) -> list[float]:
    """Seconds from publication to first arrival, per event that arrived."""
    first: dict[str, float] = {}
    for arrival in receiver.at("/healthy"):
        event_id = json.loads(arrival.body)["id"]
        if event_id in published:
            first.setdefault(event_id, arrival.at - published[event_id])
    return list(first.values())


@pytest.mark.parametrize("dead_path", ["/hang", "/fail"])
async def test_a_dead_subscriber_does_not_delay_a_healthy_one(
    kafka_bootstrap: str, healthy: Receiver, dead: Receiver, dead_path: str
) -> None:
    settings = delivery_settings(
        kafka_bootstrap,
        http=WebhookHttpSettings(timeout=1.0, max_connections_per_host=64),
        short_retry=ShortRetryPolicy(attempts=3, deadline=SHORT_WINDOW, wait_initial=0.2),
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with state_writer(settings) as state, running(settings):
            await state.subscribe(make_subscription(healthy.url("/healthy")))
            alone_events = [make_event(n) for n in range(EVENTS_PER_PHASE)]
            alone = await publish_paced(producer, settings.topics.events, alone_events)
            await eventually(lambda: len(latencies(healthy, alone)) == EVENTS_PER_PHASE)

            await state.subscribe(make_subscription(dead.url(dead_path)))
            crowded_events = [make_event(n) for n in range(1000, 1000 + EVENTS_PER_PHASE)]
            crowded = await publish_paced(producer, settings.topics.events, crowded_events)
            await eventually(lambda: len(latencies(healthy, crowded)) == EVENTS_PER_PHASE)
            assert dead.at(dead_path), "the dead subscriber was tried"
    finally:
        await producer.stop()

    alone_p50 = statistics.median(latencies(healthy, alone))
    crowded_p50 = statistics.median(latencies(healthy, crowded))
    print(f"healthy p50 alone {alone_p50:.3f} s, beside {dead_path} {crowded_p50:.3f} s")
    assert crowded_p50 < SHORT_WINDOW
