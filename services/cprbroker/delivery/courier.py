"""Taking one delivery as far as it goes now: delivered, handed to the next retry
tier, or dead-lettered; disabling a subscription that answers 410 or has failed
for longer than the failure window.

The courier returns only once the delivery's next home is acknowledged by
Kafka, so the stage may count the record as finished and commit past it.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import structlog

from cprbroker.adapters.audit_log import AuditTrail
from cprbroker.adapters.delivery_attempts import AttemptLog, AttemptStatus
from cprbroker.adapters.delivery_matching import may_receive
from cprbroker.adapters.delivery_outbox import RecordSink
from cprbroker.adapters.delivery_records import DeliveryRecord, Origin
from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.adapters.retry_topics import RetryTopics
from cprbroker.adapters.webhook_isolation import SubscriptionLimiter
from cprbroker.adapters.webhook_retrying import send_with_short_retries
from cprbroker.core.audit import AuditEntry
from cprbroker.core.delivery.attempt import AttemptResult
from cprbroker.core.delivery.circuit import CircuitBreaker
from cprbroker.core.delivery.cloudevents import CPR_TIME_ZONE
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import WebhookRequest, sign_request
from cprbroker.core.delivery.retry import (
    Outcome,
    OutcomeKind,
    RetryAfterClamp,
    RetryLadder,
    ShortRetryPolicy,
    SubscriptionHealth,
    classify_attempt,
)
from cprbroker.core.subscriptions import Subscription, SubscriptionState
from cprbroker.delivery.entries import (
    attempt_entry,
    delivery_body,
    describe,
    result_label,
    status_entry,
)
from cprbroker.delivery.settings import CircuitSettings
from cprbroker.delivery.view import SubscriptionView

log = structlog.get_logger(__name__)

ACTOR = "cprbroker-delivery"
"""The audit trail's actor for what the delivery role does on its own."""
GONE_REASON = "the endpoint answered 410 Gone"
SINGLE_ATTEMPT = ShortRetryPolicy(attempts=1)
HEALTHY = SubscriptionHealth()


class Sender(Protocol):
    """Sends one webhook request (the HTTP adapter, or a fake)."""

    async def send(self, url: str, request: WebhookRequest) -> AttemptResult:
        """POST ``request`` to ``url`` once; never raises for endpoint failures."""
        ...


@dataclass(frozen=True, slots=True)
class CourierPolicy:
    """The retry and disabling rules the courier applies."""

    ladder: RetryLadder
    short_retry: ShortRetryPolicy
    clamp: RetryAfterClamp
    circuit: CircuitSettings
    failure_window: float
    dlq_topic: str
    retry_topics: RetryTopics
    source: str


class Courier:
    """Delivers records for every subscription of this process."""

    def __init__(
        self,
        view: SubscriptionView,
        sender: Sender,
        *,
        sink: RecordSink,
        attempts: AttemptLog,
        audit: AuditTrail,
        policy: CourierPolicy,
        metrics: DeliveryMetrics,
        concurrency_per_subscription: int,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._view = view
        self._sender = sender
        self._sink = sink
        self._attempts = attempts
        self._audit = audit
        self._policy = policy
        self._metrics = metrics
        self._limiter = SubscriptionLimiter(concurrency_per_subscription)
        # Labelled metric children looked up once, not per delivery.
        self._delivered = metrics.deliveries.labels("delivered")
        self._attempt_results: dict[str, Any] = {}
        self._breakers: dict[str, CircuitBreaker] = {}
        self._health: dict[str, SubscriptionHealth] = {}
        self._clock = clock
        self._monotonic = monotonic
        self._rand = rand

    def breaker(self, subscription_id: str) -> CircuitBreaker:
        """The circuit breaker of a subscription's endpoint."""
        breaker = self._breakers.get(subscription_id)
        if breaker is None:
            settings = self._policy.circuit
            breaker = self._breakers[subscription_id] = CircuitBreaker(
                failure_threshold=settings.failure_threshold,
                open_seconds=settings.open_seconds,
                max_open_seconds=settings.max_open_seconds,
            )
        return breaker

    async def deliver(self, record: DeliveryRecord, *, stage: str, short_retries: bool) -> None:
        """Take ``record`` as far as it goes now (see the module docstring)."""
        subscription = self._view.subscription(record.subscription_id)
        if subscription is None:
            await self._log(record, stage, AttemptStatus.DROPPED, error="subscription deleted")
            self._metrics.deliveries.labels("dropped").inc()
            return
        if subscription.status.state is not SubscriptionState.ACTIVE:
            reason = subscription.status.reason or subscription.status.state.value
            state = subscription.status.state.value
            await self._dead_letter(record, stage, f"subscription {state}: {reason}")
            return
        client = self._view.client(subscription.owner)
        if client is None or not may_receive(client, record.event_type):
            await self._log(record, stage, AttemptStatus.DROPPED, error="owner may not receive it")
            self._metrics.deliveries.labels("dropped").inc()
            return
        secrets = self._view.secrets(subscription.id)
        if secrets is None:
            await self._dead_letter(record, stage, "the subscription has no usable signing secret")
            return
        level = PayloadLevel(subscription.payload_level.value)
        on = dt.datetime.fromtimestamp(self._clock(), tz=CPR_TIME_ZONE).date()
        body = delivery_body(
            record.event, level, may_see_protected=client.protected_data, on=on,
            source=self._policy.source,
        )  # fmt: skip
        breaker = self.breaker(subscription.id)
        async with self._limiter.slot(subscription.id):
            if not breaker.allow(self._monotonic()):
                await self._defer(record, stage, breaker)
                return
            results: list[AttemptResult] = []
            outcomes: list[Outcome] = []

            async def attempt() -> AttemptResult:
                request = sign_request(record.message_id, body, secrets, self._clock())
                result = await self._sender.send(subscription.endpoint.url, request)
                outcomes.append(self._observe(result, breaker))
                results.append(result)
                return result

            policy = self._policy.short_retry if short_retries else SINGLE_ATTEMPT
            outcome = await self._attempt_with_short_retries(attempt, outcomes, policy)
        await self._conclude(record, subscription, stage, results, outcome)

    async def _attempt_with_short_retries(
        self,
        attempt: Callable[[], Awaitable[AttemptResult]],
        outcomes: list[Outcome],
        policy: ShortRetryPolicy,
    ) -> Outcome:
        """Attempt once; only when that fails retriably, hand on to tenacity.

        Most deliveries succeed at once, and tenacity's machinery costs more CPU
        than the rest of a delivery: so the first attempt is made here, then
        replayed to tenacity as its attempt 1, with the window shortened by the
        time it took, which keeps the policy's waits and deadline as they are.
        ``attempt`` appends each attempt's outcome to ``outcomes``.
        """
        first = await attempt()
        outcome = outcomes[-1]
        if not outcome.retriable or policy.attempts == 1:
            return outcome
        replayed = False

        async def replay_then_attempt() -> AttemptResult:
            nonlocal replayed
            if not replayed:
                replayed = True
                return first
            return await attempt()

        remaining = replace(policy, deadline=max(0.0, policy.deadline - first.latency))
        report = await send_with_short_retries(
            replay_then_attempt, remaining, self._policy.clamp, rand=self._rand
        )
        return report.outcome

    def _observe(self, result: AttemptResult, breaker: CircuitBreaker) -> Outcome:
        """Count the attempt, tell its endpoint's breaker; return its outcome."""
        label = result_label(result)
        counter = self._attempt_results.get(label)
        if counter is None:
            counter = self._attempt_results[label] = self._metrics.attempts.labels(label)
        counter.inc()
        self._metrics.attempt_latency.observe(result.latency)
        outcome = classify_attempt(result, self._policy.clamp)
        breaker.record(outcome, self._monotonic())
        return outcome

    async def _conclude(
        self,
        record: DeliveryRecord,
        subscription: Subscription,
        stage: str,
        results: list[AttemptResult],
        outcome: Outcome,
    ) -> None:
        now = self._clock()
        health = self._health.get(subscription.id, HEALTHY).after(outcome, now)
        self._health[subscription.id] = health
        first = record.attempts + 1
        # Every attempt but the last was followed by a short in-process retry.
        for number, result in enumerate(results[:-1], start=first):
            await self._attempts.append(attempt_entry(record, stage, number, result, now))
        if outcome.kind is OutcomeKind.DELIVERED:
            await self._attempts.append(
                attempt_entry(
                    record, stage, first + len(results) - 1, results[-1], now,
                    status=AttemptStatus.DELIVERED,
                )
            )  # fmt: skip
            self._delivered.inc()
            if record.origin is Origin.EVENT:
                ingested = record.event_ref.timestamp_ms / 1000
                self._metrics.freshness.observe(max(0.0, now - ingested))
            return
        attempted = replace(record, attempts=record.attempts + len(results))
        last = attempt_entry(record, stage, first + len(results) - 1, results[-1], now)
        if outcome.kind is OutcomeKind.DISABLE_SUBSCRIPTION:
            await self._attempts.append(replace(last, status=AttemptStatus.GONE))
            await self._disable(subscription, GONE_REASON, "gone")
            await self._dead_letter(attempted, stage, GONE_REASON)
            return
        reason = describe(results[-1], outcome)
        if outcome.kind is OutcomeKind.DEAD_LETTER:
            await self._attempts.append(last)
            await self._dead_letter(attempted, stage, reason)
            return
        if health.should_disable(now, self._policy.failure_window):
            await self._attempts.append(last)
            await self._disable(subscription, health.disable_reason(now), "failing")
            await self._dead_letter(attempted, stage, reason)
            return
        moved = self._next_rung(attempted, reason, outcome.retry_after)
        await self._attempts.append(
            replace(last, next_attempt_at=moved.due_at if moved is not None else None)
        )
        await self._retry_later(attempted, moved, stage, reason)

    def _next_rung(
        self, record: DeliveryRecord, reason: str, retry_after: float | None
    ) -> DeliveryRecord | None:
        """``record`` as it waits for its next rung of the ladder (at least
        ``retry_after`` seconds), or None when the ladder is used up."""
        delay = self._policy.ladder.delay(record.retries, self._rand)
        if delay is None:
            return None
        now = self._clock()
        return replace(
            record,
            retries=record.retries + 1,
            due_at=now + max(delay, retry_after or 0.0),
            first_failed_at=record.first_failed_at if record.first_failed_at else now,
            last_error=reason,
        )

    async def _retry_later(
        self, record: DeliveryRecord, moved: DeliveryRecord | None, stage: str, reason: str
    ) -> None:
        """Hand ``moved`` to the tier topic that fits its wait, or dead-letter
        ``record`` when there is no next rung."""
        if moved is None:
            await self._dead_letter(record, stage, f"retry ladder used up; last: {reason}")
            return
        topic = self._policy.retry_topics.topic_for_wait(moved.due_at - self._clock())
        await self._send_now(topic, moved)
        self._metrics.deliveries.labels("retry_scheduled").inc()

    async def _defer(self, record: DeliveryRecord, stage: str, breaker: CircuitBreaker) -> None:
        reopens = breaker.reopens_at()
        wait = max(0.0, reopens - self._monotonic()) if reopens is not None else 0.0
        moved = self._next_rung(record, "circuit open", wait)
        if moved is not None:
            await self._log(
                record, stage, AttemptStatus.DEFERRED, error="circuit open",
                next_attempt_at=moved.due_at,
            )  # fmt: skip
        await self._retry_later(record, moved, stage, "circuit open")

    async def _dead_letter(self, record: DeliveryRecord, stage: str, reason: str) -> None:
        now = self._clock()
        dead = replace(
            record,
            last_error=reason,
            first_failed_at=record.first_failed_at if record.first_failed_at else now,
        )
        await self._send_now(self._policy.dlq_topic, dead)
        self._metrics.deliveries.labels("dead_lettered").inc()
        await self._log(dead, stage, AttemptStatus.DEAD_LETTERED, error=reason)
        log.info(
            "delivery.dead_lettered",
            subscription_id=record.subscription_id,
            delivery_id=record.message_id,
            reason=reason,
        )

    async def _send_now(self, topic: str, record: DeliveryRecord) -> None:
        await self._sink.send_and_wait(topic, record.key(), record.encode())

    async def _disable(self, subscription: Subscription, reason: str, label: str) -> None:
        disabled = await self._view.disable(subscription.id, reason)
        if disabled is None:
            return
        self._metrics.disabled.labels(label).inc()
        log.warning(
            "delivery.subscription_disabled", subscription_id=subscription.id, reason=reason
        )
        await self._audit.append(
            AuditEntry(
                at=dt.datetime.fromtimestamp(self._clock(), tz=dt.UTC),
                client=ACTOR,
                action="subscription.disable",
                result="DISABLED",
                request_id=uuid.uuid4().hex,
                subscription_id=subscription.id,
                extra={"reason": reason, "owner": subscription.owner},
            )
        )

    async def _log(
        self,
        record: DeliveryRecord,
        stage: str,
        status: AttemptStatus,
        *,
        error: str | None = None,
        next_attempt_at: float | None = None,
    ) -> None:
        await self._attempts.append(
            status_entry(
                record, stage, status, self._clock(), error=error, next_attempt_at=next_attempt_at
            )
        )
