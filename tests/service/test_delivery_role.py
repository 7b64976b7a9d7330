"""The delivery role's courier and redriver against real receivers on
127.0.0.1, with the topics faked in memory."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from tests.service.delivery_harness import (
    LOOPBACK_CIDRS,
    OTHER_SECRET,
    SECRET,
    Receiver,
    eventually,
    hang,
    make_event,
    make_subscription,
    serve_receiver,
    status,
)

from cprbroker.adapters.audit_log import InMemoryAuditTrail
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.delivery_attempts import AttemptStatus, InMemoryAttemptLog
from cprbroker.adapters.delivery_dlq import InMemoryDeadLetters, RedriveLedger
from cprbroker.adapters.delivery_outbox import InMemoryRecordSink
from cprbroker.adapters.delivery_records import (
    DeliveryRecord,
    EventRef,
    Origin,
    decode_delivery,
)
from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.adapters.retry_topics import RetryTopics
from cprbroker.adapters.state_store import Apply, InMemoryStateLog, InMemoryTopic, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.adapters.webhook_http import WebhookHttpSettings, WebhookSender
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.payload import THIN_FIELDS
from cprbroker.core.delivery.retry import RetryAfterClamp, RetryLadder, ShortRetryPolicy
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.subscriptions import (
    PayloadLevel,
    Subscription,
    SubscriptionState,
    SubscriptionStatus,
)
from cprbroker.core.topics import TopicNames
from cprbroker.delivery.courier import GONE_REASON, Courier, CourierPolicy
from cprbroker.delivery.redrive import Redriver
from cprbroker.delivery.settings import CircuitSettings
from cprbroker.delivery.view import SubscriptionView

TOPICS = TopicNames()
RETRY = RetryTopics(TOPICS.deliveries, RetryLadder((1.0, 2.0), jitter=0.0))


@dataclass
class Role:
    """The courier of one delivery process on fake topics."""

    store: SubscriptionStore
    clients: ClientRegistry
    view: SubscriptionView
    courier: Courier
    sink: InMemoryRecordSink
    attempts: InMemoryAttemptLog
    audit: InMemoryAuditTrail
    metrics: DeliveryMetrics
    redriver: Redriver

    async def subscribe(self, subscription: Subscription) -> Subscription:
        await self.store.put(subscription)
        return subscription

    def dead_letters(self) -> list[DeliveryRecord]:
        return [decode_delivery(v) for v in self.sink.values(TOPICS.deliveries_dlq)]

    def retried(self) -> list[tuple[str, DeliveryRecord]]:
        return [
            (topic, decode_delivery(value))
            for topic in RETRY.topics()
            for value in self.sink.values(topic)
        ]

    def counted(self, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "cprbroker_deliveries_total", {"outcome": outcome}
        )
        return value or 0.0


def delivery(subscription: Subscription, n: int = 1, **changes: Any) -> DeliveryRecord:
    """The delivery of synthetic event ``n`` to ``subscription``."""
    event = make_event(n, **changes)
    ref = EventRef(TOPICS.events, 0, n, int(time.time() * 1000))
    return DeliveryRecord(subscription.id, event_to_dict(event), ref)


def open_log(topics: dict[str, InMemoryTopic]) -> Any:
    def opener(name: str, apply: Apply) -> StateLog:
        topic = topics.setdefault(name, InMemoryTopic(name))
        return InMemoryStateLog(topic, apply)

    return opener


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as served:
        yield served


@pytest.fixture
def failure_window() -> float:
    return 3 * 86400.0


@pytest.fixture
async def role(failure_window: float) -> AsyncIterator[Role]:
    topics: dict[str, InMemoryTopic] = {}
    opener = open_log(topics)
    store = SubscriptionStore(opener, TOPICS)
    clients = ClientRegistry(opener, TOPICS.clients)
    ledger = RedriveLedger(opener, "redrives")
    sink = InMemoryRecordSink()
    metrics = DeliveryMetrics()
    redriver = Redriver(
        ledger,
        InMemoryDeadLetters(lambda: sink.values(TOPICS.deliveries_dlq)),
        sink,
        TOPICS.deliveries,
        metrics,
        settle=0.0,
    )
    view = SubscriptionView(
        store,
        clients,
        rotation_grace=3600.0,
        on_activated=redriver.activated,
        on_deactivated=redriver.deactivated,
    )
    logs = [*store.logs, clients.log, ledger.log]
    for state_log in logs:
        await state_log.start()
    view.go_live()
    await clients.create("sagssystem")
    await clients.create("beskyttet", protected_data=True)
    await clients.create("kun-doedsfald", event_types=["cpr.person.died"])
    attempts = InMemoryAttemptLog()
    audit = InMemoryAuditTrail()
    policy = CourierPolicy(
        ladder=RETRY.ladder,
        short_retry=ShortRetryPolicy(attempts=2, deadline=1.0, wait_initial=0.05, wait_jitter=0),
        clamp=RetryAfterClamp(0.0, 60.0),
        circuit=CircuitSettings(failure_threshold=3, open_seconds=30.0),
        failure_window=failure_window,
        dlq_topic=TOPICS.deliveries_dlq,
        retry_topics=RETRY,
        source="urn:cprbroker:test",
    )
    policy_cidrs = AddressPolicy.from_cidrs(LOOPBACK_CIDRS)
    async with WebhookSender(policy_cidrs, WebhookHttpSettings(timeout=1.0)) as sender:
        courier = Courier(
            view,
            sender,
            sink=sink,
            attempts=attempts,
            audit=audit,
            policy=policy,
            metrics=metrics,
            concurrency_per_subscription=2,
        )
        yield Role(store, clients, view, courier, sink, attempts, audit, metrics, redriver)
    await redriver.stop()
    for state_log in logs:
        await state_log.stop()


async def test_a_delivery_is_a_signed_cloudevent(role: Role, receiver: Receiver) -> None:
    subscription = await role.subscribe(make_subscription(receiver.url()))
    record = delivery(subscription)
    await role.courier.deliver(record, stage="send", short_retries=True)

    (arrival,) = receiver.arrivals
    assert arrival.headers["Content-Type"] == "application/cloudevents+json"
    assert arrival.webhook_id == record.message_id
    envelope = Webhook(SECRET).verify(arrival.body, arrival.headers)
    assert envelope["specversion"] == "1.0"
    assert envelope["id"] == record.event_id
    assert envelope["type"] == "cpr.person.moved"
    assert envelope["source"] == "urn:cprbroker:test"
    assert envelope["data"]["snapshot"]["address"]["municipality"] == "0101"
    (entry,) = role.attempts.of(subscription.id)
    assert (entry.status, entry.attempt, entry.http_status) == (AttemptStatus.DELIVERED, 1, 200)
    assert entry.delivery_id == record.message_id
    assert role.counted("delivered") == 1
    assert role.sink.topics == {}


async def test_thin_payload_carries_ids_type_person_and_time(
    role: Role, receiver: Receiver
) -> None:
    subscription = await role.subscribe(make_subscription(receiver.url(), level=PayloadLevel.THIN))
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)
    data = json.loads(receiver.arrivals[0].body)["data"]
    assert set(data) == set(THIN_FIELDS)
    assert "snapshot" not in data


@pytest.mark.parametrize(("owner", "sees_name"), [("sagssystem", False), ("beskyttet", True)])
async def test_protected_person_name_and_address_need_the_entitlement(
    role: Role, receiver: Receiver, owner: str, sees_name: bool
) -> None:
    subscription = await role.subscribe(make_subscription(receiver.url(), owner=owner))
    await role.courier.deliver(
        delivery(subscription, protected=True), stage="send", short_retries=True
    )
    data = json.loads(receiver.arrivals[0].body)["data"]
    assert ("name" in data["snapshot"]) is sees_name
    assert ("address" in data["snapshot"]) is sees_name
    assert ("after" in data["change"]) is sees_name
    if not sees_name:
        assert "/snapshot/name" in data["withheld"]
        assert "Testesen" not in receiver.arrivals[0].body.decode()


async def test_an_event_type_the_owner_is_not_entitled_to_is_not_sent(
    role: Role, receiver: Receiver
) -> None:
    subscription = await role.subscribe(make_subscription(receiver.url(), owner="kun-doedsfald"))
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)
    assert receiver.arrivals == []
    assert role.attempts.of(subscription.id)[0].status is AttemptStatus.DROPPED


async def test_a_short_retry_recovers_with_the_same_webhook_id(
    role: Role, receiver: Receiver
) -> None:
    receiver.script("/hook", [status(500)])
    subscription = await role.subscribe(make_subscription(receiver.url()))
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)

    assert [a.webhook_id for a in receiver.arrivals] == [receiver.arrivals[0].webhook_id] * 2
    entries = role.attempts.of(subscription.id)
    assert [(e.attempt, e.status, e.http_status) for e in entries] == [
        (1, AttemptStatus.FAILED, 500),
        (2, AttemptStatus.DELIVERED, 200),
    ]
    assert role.sink.topics == {}


async def test_a_failing_delivery_moves_to_the_first_retry_tier(
    role: Role, receiver: Receiver
) -> None:
    receiver.default("/hook", status(500))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    before = time.time()
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)

    ((topic, moved),) = role.retried()
    assert topic == f"{TOPICS.deliveries}.retry.1s"
    assert (moved.retries, moved.attempts) == (1, 2)
    assert before + 1.0 <= moved.due_at <= time.time() + 1.0
    assert moved.last_error is not None
    assert "status 500" in moved.last_error
    last = role.attempts.of(subscription.id)[-1]
    assert last.status is AttemptStatus.FAILED
    assert last.next_attempt_at == pytest.approx(moved.due_at)
    assert role.counted("retry_scheduled") == 1


async def test_after_the_last_tier_the_delivery_is_dead_lettered(
    role: Role, receiver: Receiver
) -> None:
    receiver.default("/hook", status(503))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    record = replace(delivery(subscription), retries=2, attempts=4, first_failed_at=1.0)
    await role.courier.deliver(record, stage="retry.2s", short_retries=False)

    assert len(receiver.arrivals) == 1  # one attempt per tier
    (dead,) = role.dead_letters()
    assert (dead.retries, dead.attempts, dead.first_failed_at) == (2, 5, 1.0)
    assert dead.last_error is not None
    assert dead.last_error.startswith("retry ladder used up")
    statuses = [e.status for e in role.attempts.of(subscription.id)]
    assert statuses == [AttemptStatus.FAILED, AttemptStatus.DEAD_LETTERED]


async def test_410_disables_the_subscription_with_an_audit_entry(
    role: Role, receiver: Receiver
) -> None:
    receiver.default("/hook", status(410))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)

    assert len(receiver.arrivals) == 1  # 410 is final: no short retry
    stored = role.store.get(subscription.id)
    assert stored is not None
    assert stored.status == SubscriptionStatus.disabled(GONE_REASON)
    (entry,) = role.audit.entries
    assert (entry.action, entry.subscription_id, entry.result) == (
        "subscription.disable",
        subscription.id,
        "DISABLED",
    )
    (dead,) = role.dead_letters()
    assert dead.subscription_id == subscription.id
    assert role.attempts.of(subscription.id)[0].status is AttemptStatus.GONE


async def test_retry_after_longer_than_the_short_window_sets_the_due_time(
    role: Role, receiver: Receiver
) -> None:
    receiver.script("/hook", [status(429, {"Retry-After": "20"})])
    subscription = await role.subscribe(make_subscription(receiver.url()))
    before = time.time()
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)

    assert len(receiver.arrivals) == 1  # waiting 20 s is not a short retry
    ((topic, moved),) = role.retried()
    assert topic == f"{TOPICS.deliveries}.retry.2s"  # the longest tier covers it best
    assert moved.due_at >= before + 20


async def test_a_short_retry_after_is_honoured_in_process(role: Role, receiver: Receiver) -> None:
    receiver.script("/hook", [status(503, {"Retry-After": "1"})])
    subscription = await role.subscribe(make_subscription(receiver.url()))
    role.courier._policy = replace(  # a window that fits the asked-for second
        role.courier._policy, short_retry=ShortRetryPolicy(attempts=3, deadline=3.0)
    )
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)
    first, second = receiver.arrivals
    assert second.at - first.at >= 0.95


async def test_deliveries_of_an_inactive_subscription_are_dead_lettered(
    role: Role, receiver: Receiver
) -> None:
    subscription = await role.subscribe(
        make_subscription(receiver.url(), status=SubscriptionStatus.disabled("by test"))
    )
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)
    assert receiver.arrivals == []
    (dead,) = role.dead_letters()
    assert dead.last_error == "subscription disabled: by test"


async def test_deliveries_of_a_deleted_subscription_are_dropped(
    role: Role, receiver: Receiver
) -> None:
    subscription = make_subscription(receiver.url())  # never stored
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)
    assert receiver.arrivals == []
    assert role.attempts.of(subscription.id)[0].status is AttemptStatus.DROPPED
    assert role.counted("dropped") == 1


async def test_the_circuit_opens_and_later_deliveries_are_deferred_unsent(
    role: Role, receiver: Receiver
) -> None:
    receiver.default("/hook", status(500))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    for n in range(2):  # two deliveries, two attempts each: threshold 3 reached
        await role.courier.deliver(delivery(subscription, n), stage="send", short_retries=True)
    sent = len(receiver.arrivals)
    assert sent >= 3
    await role.courier.deliver(delivery(subscription, 9), stage="send", short_retries=True)

    assert len(receiver.arrivals) == sent
    deferred = role.attempts.of(subscription.id)[-1]
    assert deferred.status is AttemptStatus.DEFERRED
    assert deferred.error == "circuit open"
    # It waits at least as long as the circuit stays open.
    assert role.retried()[-1][1].due_at >= time.time() + 25


async def test_a_rotated_secret_signs_alongside_the_new_one_during_the_grace(
    role: Role, receiver: Receiver
) -> None:
    subscription = await role.subscribe(make_subscription(receiver.url()))
    rotated = replace(
        subscription,
        endpoint=replace(subscription.endpoint, secret=OTHER_SECRET),
        updated_at=datetime.now(UTC),
    )
    await role.store.put(rotated)
    await role.courier.deliver(delivery(subscription), stage="send", short_retries=True)

    arrival = receiver.arrivals[0]
    assert len(arrival.headers["webhook-signature"].split(" ")) == 2
    Webhook(OTHER_SECRET).verify(arrival.body, arrival.headers)
    Webhook(SECRET).verify(arrival.body, arrival.headers)


async def test_concurrency_per_subscription_is_capped(role: Role, receiver: Receiver) -> None:
    receiver.default("/hook", hang(0.3))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    await asyncio.gather(
        *(
            role.courier.deliver(delivery(subscription, n), stage="send", short_retries=True)
            for n in range(6)
        )
    )
    starts = sorted(a.at for a in receiver.arrivals)
    # With 2 slots and 0.3 s answers, six requests take at least three rounds.
    assert starts[-1] - starts[0] >= 0.55
    assert len(receiver.arrivals) == 6


@pytest.mark.parametrize("failure_window", [0.0])
async def test_a_subscription_failing_past_the_window_is_disabled(
    role: Role, receiver: Receiver
) -> None:
    receiver.default("/hook", status(500))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    await role.courier.deliver(delivery(subscription, 1), stage="send", short_retries=True)
    await role.courier.deliver(delivery(subscription, 2), stage="send", short_retries=True)

    stored = role.store.get(subscription.id)
    assert stored is not None
    assert stored.status.state is SubscriptionState.DISABLED
    assert stored.status.reason is not None
    assert stored.status.reason.startswith("every delivery failed for")
    assert [e.action for e in role.audit.entries] == ["subscription.disable"]
    assert len(role.dead_letters()) == 1


async def test_re_enabling_redrives_the_dead_letters_once(role: Role, receiver: Receiver) -> None:
    receiver.default("/hook", status(410))
    subscription = await role.subscribe(make_subscription(receiver.url()))
    other = await role.subscribe(make_subscription(receiver.url("/other")))
    for n in range(3):
        await role.courier.deliver(delivery(subscription, n), stage="send", short_retries=True)
    await role.courier.deliver(delivery(other, 7), stage="send", short_retries=True)
    await role.redriver.idle()
    assert len(role.dead_letters()) == 3  # the first 410, then two while disabled

    disabled = role.store.get(subscription.id)
    assert disabled is not None
    await role.store.put(replace(disabled, status=SubscriptionStatus()))
    await role.redriver.idle()

    redriven = [decode_delivery(v) for v in role.sink.values(TOPICS.deliveries)]
    assert sorted(r.event_id for r in redriven) == sorted(r.event_id for r in role.dead_letters())
    assert {(r.origin, r.retries, r.attempts) for r in redriven} == {(Origin.REDRIVE, 0, 0)}
    assert {r.subscription_id for r in redriven} == {subscription.id}

    # Disabled and re-enabled again with no new dead letters: nothing more.
    await role.store.put(replace(disabled, status=SubscriptionStatus.disabled("again")))
    await role.store.put(replace(disabled, status=SubscriptionStatus()))
    await role.redriver.idle()
    await eventually(lambda: not role.redriver._tasks)
    assert len(role.sink.values(TOPICS.deliveries)) == 3
