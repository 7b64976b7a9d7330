"""The delivery role on the real Kafka with real receivers on 127.0.0.1: events
in, signed webhooks out, retries, disabling, dead letters and redrive.

The retry ladder is compressed to seconds. Nothing asserts tight timing: the
machine is shared; waits poll with generous deadlines.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import aiohttp
import pytest
from standardwebhooks.webhooks import Webhook
from tests.integration.delivery_support import (
    delivery_settings,
    publish,
    read_keyed,
    running,
    state_writer,
)
from tests.service.delivery_harness import (
    SECRET,
    Receiver,
    eventually,
    make_event,
    make_subscription,
    serve_receiver,
    status,
)

from cprbroker.adapters.audit_log import read_audit
from cprbroker.adapters.delivery_attempts import (
    AttemptLogEntry,
    AttemptQuery,
    AttemptStatus,
    read_attempts,
)
from cprbroker.core.audit import AuditQuery
from cprbroker.core.delivery.retry import RetryLadder, ShortRetryPolicy
from cprbroker.core.subscriptions import Filter, SubscriptionState, SubscriptionStatus
from cprbroker.delivery.settings import DeliverySettings

pytestmark = pytest.mark.slow
T = TypeVar("T")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        yield served


async def attempt_log(
    settings: DeliverySettings, subscription_id: str, *, delivered: int
) -> list[AttemptLogEntry]:
    """The attempt log of a subscription, once it shows ``delivered`` deliveries
    delivered (entries are written in batches, a little after the attempt)."""
    deadline = time.monotonic() + 30
    while True:
        page = await read_attempts(
            settings.bootstrap_servers,
            settings.topics.delivery_attempts,
            AttemptQuery(subscription_id, limit=10_000),
        )
        done = {e.delivery_id for e in page.entries if e.status is AttemptStatus.DELIVERED}
        if len(done) >= delivered or time.monotonic() > deadline:
            return page.entries
        await asyncio.sleep(0.2)


async def eventually_found(read: Callable[[], Awaitable[list[T]]], timeout: float = 30) -> list[T]:
    """Poll the coroutine ``read`` until it gives a non-empty list."""
    deadline = time.monotonic() + timeout
    while True:
        found = await read()
        if found or time.monotonic() > deadline:
            assert found, f"nothing found within {timeout}s"
            return found
        await asyncio.sleep(0.3)


async def test_matching_events_arrive_signed_once_per_subscription(
    kafka_bootstrap: str, receiver: Receiver
) -> None:
    settings = delivery_settings(kafka_bootstrap)
    in_0101 = Filter(municipalities=frozenset({"0101"}))
    async with state_writer(settings) as state, running(settings) as role:
        await state.subscribe(make_subscription(receiver.url("/all")))
        copenhagen = await state.subscribe(
            make_subscription(receiver.url("/0101"), filter_=in_0101)
        )
        events = [make_event(n, municipality="0101" if n % 2 else "0147") for n in range(20)]
        await publish(kafka_bootstrap, settings.topics.events, events)

        await eventually(
            lambda: (len(receiver.ids("/all")), len(receiver.ids("/0101"))) == (20, 10)
        )
        for arrival in receiver.arrivals:
            envelope = Webhook(SECRET).verify(arrival.body, arrival.headers)
            assert arrival.headers["Content-Type"] == "application/cloudevents+json"
            if arrival.path == "/0101":
                assert envelope["data"]["municipality_after"] == "0101"
        assert {json.loads(a.body)["id"] for a in receiver.at("/all")} == {e.id for e in events}

        assert role.metrics_url is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(role.metrics_url + "/metrics") as response:
                text = await response.text()
            async with http.get(role.metrics_url + "/readyz") as ready:
                assert ready.status == 200
        assert 'cprbroker_deliveries_total{outcome="delivered"} 30.0' in text
        assert "cprbroker_delivery_freshness_seconds_count 30.0" in text
        assert "cprbroker_delivery_attempt_latency_seconds_count 30.0" in text

        entries = await attempt_log(settings, copenhagen.id, delivered=10)
    assert {e.status for e in entries} == {AttemptStatus.DELIVERED}
    assert {e.event_id for e in entries} == {e.id for e in events if e.municipality_after == "0101"}


async def test_a_receiver_failing_then_recovering_gets_everything_with_attempts_logged(
    kafka_bootstrap: str, receiver: Receiver
) -> None:
    settings = delivery_settings(kafka_bootstrap)
    receiver.default("/hook", status(500))
    async with state_writer(settings) as state, running(settings):
        subscription = await state.subscribe(make_subscription(receiver.url()))
        events = [make_event(n) for n in range(5)]
        await publish(kafka_bootstrap, settings.topics.events, events)
        # Every delivery fails its short retries and waits in a retry tier.
        await eventually(lambda: len(receiver.ids()) == 5 and len(receiver.arrivals) >= 10)
        receiver.defaults.clear()  # the receiver recovers: 200 from now on
        recovered_at = time.time()

        def delivered_after_recovery() -> bool:
            late = {a.webhook_id for a in receiver.arrivals if a.at >= recovered_at}
            return len(late) == 5

        await eventually(delivered_after_recovery)
        entries = await attempt_log(settings, subscription.id, delivered=5)
    by_delivery: dict[str, list[AttemptLogEntry]] = {}
    for entry in entries:
        by_delivery.setdefault(entry.delivery_id, []).append(entry)
    assert set(by_delivery) == receiver.ids()
    for log_of_one in by_delivery.values():
        statuses = [e.status for e in log_of_one]
        assert statuses[-1] is AttemptStatus.DELIVERED
        assert AttemptStatus.FAILED in statuses
        numbers = [e.attempt for e in log_of_one]
        assert numbers == sorted(numbers)
        assert {e.http_status for e in log_of_one if e.status is AttemptStatus.FAILED} == {500}
        assert any(e.stage.startswith("retry.") for e in log_of_one)


async def test_410_disables_the_subscription_with_an_audit_entry(
    kafka_bootstrap: str, receiver: Receiver
) -> None:
    settings = delivery_settings(kafka_bootstrap)
    receiver.default("/hook", status(410))
    async with state_writer(settings) as state, running(settings):
        subscription = await state.subscribe(make_subscription(receiver.url()))
        await publish(kafka_bootstrap, settings.topics.events, [make_event(1)])

        def disabled() -> bool:
            current = state.store.get(subscription.id)
            return current is not None and current.status.state is SubscriptionState.DISABLED

        await eventually(disabled)
        current = state.store.get(subscription.id)
        assert current is not None
        assert current.status.reason == "the endpoint answered 410 Gone"
        assert len(receiver.arrivals) == 1
        dlq = settings.topics.deliveries_dlq
        dead = await eventually_found(lambda: read_keyed(kafka_bootstrap, dlq, subscription.id))
        assert dead[0].last_error == "the endpoint answered 410 Gone"
    entries = [
        entry
        async for entry in read_audit(kafka_bootstrap, settings.topics.audit, AuditQuery())
        if entry.subscription_id == subscription.id
    ]
    assert [(e.client, e.action, e.result) for e in entries] == [
        ("cprbroker-delivery", "subscription.disable", "DISABLED")
    ]


async def test_retry_after_is_honoured(kafka_bootstrap: str, receiver: Receiver) -> None:
    settings = delivery_settings(kafka_bootstrap)
    receiver.script("/hook", [status(429, {"Retry-After": "3"})])
    async with state_writer(settings) as state, running(settings):
        await state.subscribe(make_subscription(receiver.url()))
        await publish(kafka_bootstrap, settings.topics.events, [make_event(1)])
        await eventually(lambda: len(receiver.arrivals) == 2)
    first, second = receiver.arrivals
    assert first.webhook_id == second.webhook_id
    # Asked for 3 s: never sooner (a little slack for clock granularity).
    assert second.at - first.at >= 2.9


async def test_down_for_the_whole_ladder_ends_in_the_dlq_and_re_enabling_redrives(
    kafka_bootstrap: str, receiver: Receiver
) -> None:
    settings = delivery_settings(
        kafka_bootstrap,
        ladder=RetryLadder((1.0, 1.0), jitter=0.0),
        short_retry=ShortRetryPolicy(attempts=1),
        failure_window=1.5,
    )
    receiver.default("/hook", status(503))
    async with state_writer(settings) as state, running(settings) as role:
        subscription = await state.subscribe(make_subscription(receiver.url()))
        event = make_event(1)
        await publish(kafka_bootstrap, settings.topics.events, [event])

        dlq = settings.topics.deliveries_dlq
        dead = await eventually_found(lambda: read_keyed(kafka_bootstrap, dlq, subscription.id))
        assert dead[0].event_id == event.id
        assert dead[0].attempts == 3  # the first try and one per rung
        current = state.store.get(subscription.id)
        assert current is not None
        assert current.status.state is SubscriptionState.DISABLED
        assert current.status.reason is not None
        assert current.status.reason.startswith("every delivery failed for")
        tries = len(receiver.arrivals)

        receiver.defaults.clear()  # the endpoint is back; the operator re-enables
        await state.store.put(replace(current, status=SubscriptionStatus()))
        await eventually(lambda: len(receiver.arrivals) > tries)
        redriven = receiver.arrivals[-1]
        assert redriven.webhook_id == receiver.arrivals[0].webhook_id
        Webhook(SECRET).verify(redriven.body, redriven.headers)
        registry = role.metrics.registry
        await eventually(
            lambda: registry.get_sample_value("cprbroker_dead_letters_redriven_total") == 1.0
        )
