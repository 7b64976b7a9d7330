"""Starting the delivery role on Kafka, and draining it.

:func:`start_delivery` loads the subscriptions and clients, then starts three
consumer group members in this process: the fan-out (``cpr.events``, first
attempts made at once), the sender (``cpr.deliveries``: deliveries asked for
through the API, dead letters redriven) and the retry tiers
(``cpr.deliveries.retry.*``); plus the metrics server. :func:`run_delivery`
runs it until a stop event (``cprbroker delivery``; ``cprbroker run`` can host
it beside the other roles).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cprbroker.adapters.audit_log import KafkaAuditTrail
from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.delivery_attempts import KafkaAttemptLog
from cprbroker.adapters.delivery_dlq import KafkaDeadLetters, RedriveLedger
from cprbroker.adapters.delivery_outbox import KafkaRecordSink, KeyPartitioner
from cprbroker.adapters.health import HttpEndpoint
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.metrics import DeliveryMetrics, serve_metrics
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.adapters.webhook_http import WebhookSender
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.topics import TopicSpec, topic_specs
from cprbroker.delivery.courier import Courier, CourierPolicy, Sender
from cprbroker.delivery.fanout import FanOut
from cprbroker.delivery.incoming import Incoming, IncomingHandler
from cprbroker.delivery.redrive import Redriver
from cprbroker.delivery.settings import DeliverySettings
from cprbroker.delivery.stage import ConcurrentStage, StageConfig
from cprbroker.delivery.view import SubscriptionView

log = structlog.get_logger(__name__)

T = TypeVar("T")

_YOUNG_COLLECTION_EVERY = 20_000


def delivery_topic_specs(settings: DeliverySettings) -> list[TopicSpec]:
    """Every topic the delivery role reads or writes, as it must be created."""
    names = settings.topics
    wanted = {
        names.events,
        names.deliveries,
        names.deliveries_dlq,
        names.delivery_attempts,
        names.audit,
        names.subscriptions,
        names.subscription_pnrs,
        names.clients,
    }
    specs = [s for s in topic_specs(names, settings.topic_partitions) if s.name in wanted]
    specs.extend(settings.retry_topics.specs(settings.topic_partitions))
    specs.append(TopicSpec(settings.redrive_topic, settings.topic_partitions, True, None))
    return specs


@dataclass
class _Parts:
    producer: AIOKafkaProducer
    logs: list[StateLog]
    view: SubscriptionView
    attempt_log: KafkaAttemptLog
    redriver: Redriver


class DeliveryRunner:
    """A running delivery role: its stages, and how to drain it."""

    def __init__(
        self,
        settings: DeliverySettings,
        parts: _Parts,
        *,
        sender: Sender,
        owned_sender: WebhookSender | None,
        stages: list[ConcurrentStage[Any]],
        metrics: DeliveryMetrics,
        metrics_server: HttpEndpoint | None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.view = parts.view
        self.redriver = parts.redriver
        self._parts = parts
        self._sender = sender
        self._owned_sender = owned_sender
        self._stages = stages
        self._metrics_server = metrics_server
        self._tasks: list[asyncio.Task[None]] = [
            asyncio.create_task(s.run(), name=f"delivery:{s.config.name}") for s in stages
        ]
        self._reconcile = asyncio.create_task(
            parts.redriver.reconcile(parts.view), name="delivery:reconcile"
        )
        self._stopped = False

    @property
    def metrics_url(self) -> str | None:
        """The base URL of ``/metrics``, ``/healthz`` and ``/readyz``, if served."""
        return self._metrics_server.url if self._metrics_server is not None else None

    @property
    def running(self) -> bool:
        """Whether every stage is still running."""
        return not self._stopped and not any(task.done() for task in self._tasks)

    async def wait(self) -> None:
        """Return when a stage ends (it failed: raise its error)."""
        done, _ = await asyncio.wait(self._tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]

    async def stop(self) -> None:
        """Drain: stop intake, let running deliveries finish until the drain
        deadline, commit what finished, then close everything."""
        if self._stopped:
            return
        self._stopped = True
        deadline = time.monotonic() + self.settings.drain_timeout
        for stage in self._stages:
            stage.request_stop()
        _, late = await asyncio.wait(self._tasks, timeout=5.0)
        for task in late:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*(stage.stop(deadline) for stage in self._stages))
        self._reconcile.cancel()
        await asyncio.gather(self._reconcile, return_exceptions=True)
        await self._parts.redriver.stop()
        with contextlib.suppress(KafkaUnavailableError):
            await self._parts.attempt_log.flush()
        if self._owned_sender is not None:
            await self._owned_sender.close()
        for state_log in self._parts.logs:
            await state_log.stop()
        with contextlib.suppress(KafkaError):
            await self._parts.producer.stop()
        if self._metrics_server is not None:
            await self._metrics_server.stop()
        log.info("delivery.stopped")


async def _open_parts(settings: DeliverySettings, metrics: DeliveryMetrics) -> _Parts:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        acks="all",
        linger_ms=5,
        max_request_size=4 * 1024 * 1024,
        partitioner=KeyPartitioner(),
    )
    await start_producer(producer, settings.bootstrap_servers)

    def open_log(topic: str, apply: Apply) -> StateLog:
        return KafkaStateLog(settings.bootstrap_servers, topic, apply, producer)

    sink = KafkaRecordSink(producer)
    store = SubscriptionStore(open_log, settings.topics)
    clients = ClientRegistry(open_log, settings.topics.clients)
    ledger = RedriveLedger(open_log, settings.redrive_topic)
    redriver = Redriver(
        ledger,
        KafkaDeadLetters(settings.bootstrap_servers, settings.topics.deliveries_dlq),
        sink,
        settings.topics.deliveries,
        metrics,
    )
    view = SubscriptionView(
        store,
        clients,
        rotation_grace=settings.rotation_grace,
        on_activated=redriver.activated,
        on_deactivated=redriver.deactivated,
    )
    logs = [*store.logs, clients.log, ledger.log]
    try:
        await asyncio.gather(*(state_log.start() for state_log in logs))
    except BaseException:
        for state_log in logs:
            await state_log.stop()
        await producer.stop()
        raise
    view.go_live()
    attempt_log = KafkaAttemptLog(producer, settings.topics.delivery_attempts)
    return _Parts(producer, logs, view, attempt_log, redriver)


class _Readiness:
    """``/readyz``: ready once every stage runs, and while they all do."""

    def __init__(self) -> None:
        self.runner: DeliveryRunner | None = None

    def check(self) -> bool:
        return self.runner is not None and self.runner.running


async def start_delivery(
    settings: DeliverySettings,
    *,
    sender: Sender | None = None,
    metrics: DeliveryMetrics | None = None,
) -> DeliveryRunner:
    """Start the delivery role; return once it is consuming.

    The metrics and health server comes up first (``/healthz`` answers while
    the state loads; ``/readyz`` once the stages run). ``sender`` replaces the
    HTTP sender (tests); ``metrics`` a fresh registry. Raises
    KafkaUnavailableError when Kafka cannot be reached.
    """
    metrics = metrics or DeliveryMetrics()
    readiness = _Readiness()
    server: HttpEndpoint | None = None
    if settings.metrics_port is not None:
        server = await serve_metrics(
            metrics, readiness.check, settings.metrics_host, settings.metrics_port
        )
    try:
        readiness.runner = await _start(settings, sender, metrics, server)
    except BaseException:
        if server is not None:
            await server.stop()
        raise
    return readiness.runner


async def _start(
    settings: DeliverySettings,
    sender: Sender | None,
    metrics: DeliveryMetrics,
    server: HttpEndpoint | None,
) -> DeliveryRunner:
    if settings.create_topics:
        await ensure_topics(settings.bootstrap_servers, delivery_topic_specs(settings))
    parts = await _open_parts(settings, metrics)
    owned: WebhookSender | None = None
    if sender is None:
        owned = WebhookSender(settings.address_policy(), settings.http)
        await owned.start()
        sender = owned
    sink = KafkaRecordSink(parts.producer)
    courier = Courier(
        parts.view,
        sender,
        sink=sink,
        attempts=parts.attempt_log,
        audit=KafkaAuditTrail(parts.producer, settings.topics.audit),
        policy=CourierPolicy(
            ladder=settings.ladder,
            short_retry=settings.short_retry,
            clamp=settings.retry_after_clamp,
            circuit=settings.circuit,
            failure_window=settings.failure_window,
            dlq_topic=settings.topics.deliveries_dlq,
            retry_topics=settings.retry_topics,
            source=settings.source,
        ),
        metrics=metrics,
        concurrency_per_subscription=settings.concurrency_per_subscription,
    )
    topics = settings.topics
    handler = IncomingHandler(courier, sink, topics.deliveries, topics.deliveries_dlq)
    fan_out = FanOut(parts.view, courier, codec=default_codec(), metrics=metrics)
    stages: list[ConcurrentStage[Any]] = [
        _stage(settings, "fanout", (topics.events,), fan_out.handle, _record, parts=parts),
        _stage(
            settings,
            "send",
            (topics.deliveries,),
            handler.handle,
            Incoming.of,
            parts=parts,
            on_in_flight=metrics.in_flight.labels("send").set,
        ),
        _stage(
            settings,
            "retry",
            settings.retry_topics.topics(),
            handler.handle,
            Incoming.of,
            parts=parts,
            due_of=Incoming.due,
            on_in_flight=metrics.in_flight.labels("retry").set,
        ),
    ]
    try:
        for stage in stages:
            await stage.start()
    except BaseException:
        for stage in stages:
            await stage.stop(time.monotonic())
        if owned is not None:
            await owned.close()
        for state_log in parts.logs:
            await state_log.stop()
        await parts.producer.stop()
        raise
    runner = DeliveryRunner(
        settings,
        parts,
        sender=sender,
        owned_sender=owned,
        stages=stages,
        metrics=metrics,
        metrics_server=server,
    )
    log.info("delivery.started", group=settings.group_id, metrics=runner.metrics_url)
    return runner


def _record(record: Any) -> Any:
    # The fan-out decodes in its handler, where a failure fails the stage.
    return record


def _stage(
    settings: DeliverySettings,
    name: str,
    topics: tuple[str, ...],
    handle: Callable[[T], Awaitable[None]],
    prepare: Callable[[Any], T],
    *,
    parts: _Parts,
    due_of: Callable[[T], float] = lambda item: 0.0,
    on_in_flight: Callable[[int], None] = lambda count: None,
) -> ConcurrentStage[T]:
    async def flush() -> None:
        await parts.attempt_log.flush()

    return ConcurrentStage(
        settings.bootstrap_servers,
        StageConfig(
            name=name,
            topics=topics,
            group_id=f"{settings.group_id}.{name}",
            max_in_flight=settings.max_in_flight,
            commit_interval=settings.commit_interval,
        ),
        prepare=prepare,
        handle=handle,
        due_of=due_of,
        flush=flush,
        on_in_flight=on_in_flight,
    )


def _settle_garbage_collection() -> None:
    """Tune the collector for a process that hosts the delivery role alone.

    Every delivery allocates a few hundred short-lived containers (the decoded
    event, its body, the request), and the cyclic collector's passes over the
    long-lived state (subscriptions, CPR-number lists, clients, connections)
    took about a tenth of the role's CPU. That state, loaded by now, is moved
    out of the collector's sight (``gc.freeze``: it is still freed by reference
    counting; only a reference cycle among those start-up objects would now
    outlive its use), and young collections run every 20,000 allocations, not
    700.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(_YOUNG_COLLECTION_EVERY, older, oldest)


async def run_delivery(settings: DeliverySettings, stop: asyncio.Event) -> None:
    """Run the delivery role until ``stop`` is set (then drain) or a stage fails
    (then drain and raise its error). The process is taken to host nothing
    else: its garbage collection is tuned for the role."""
    runner = await start_delivery(settings)
    _settle_garbage_collection()
    stopping = asyncio.create_task(stop.wait())
    failed = asyncio.create_task(runner.wait())
    try:
        await asyncio.wait({stopping, failed}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        log.info("delivery.stopping")
        await runner.stop()
    if failed.done():
        failed.result()
    else:
        failed.cancel()
        await asyncio.gather(failed, return_exceptions=True)
