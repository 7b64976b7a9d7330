"""What the API needs of the delivery machinery: a subscription's attempt log,
the events on ``cpr.events`` (one by position, or all since a time), queueing
deliveries on ``cpr.deliveries``, and sending a test ping.

:class:`KafkaDeliveryDesk` connects lazily, on the first call that needs
Kafka or HTTP, so an API process that never serves these routes never opens
anything for them. :class:`InMemoryDeliveryDesk` is the fake for service tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.delivery_attempts import (
    AttemptLogEntry,
    AttemptPage,
    AttemptQuery,
    read_attempts,
)
from cprbroker.adapters.delivery_matching import event_document
from cprbroker.adapters.delivery_outbox import KeyPartitioner
from cprbroker.adapters.delivery_records import DeliveryRecord, EventRef
from cprbroker.adapters.delivery_scan import existing_partitions
from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.webhook_http import WebhookHttpSettings, WebhookSender
from cprbroker.core.delivery.attempt import AttemptResult
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.request import WebhookRequest
from cprbroker.core.errors import EventFormatError, KafkaUnavailableError
from cprbroker.core.topics import TopicNames

log = structlog.get_logger(__name__)

LocatedEvent = tuple[EventRef, dict[str, Any]]


class DeliveryDesk(Protocol):
    """The delivery operations behind the API's delivery routes."""

    async def attempts(self, query: AttemptQuery) -> AttemptPage:
        """One page of a subscription's attempt log."""
        ...

    async def find_delivery(self, subscription_id: str, delivery_id: str) -> AttemptLogEntry | None:
        """An attempt-log entry of the delivery that says where its event is."""
        ...

    async def read_event(self, ref: EventRef) -> dict[str, Any] | None:
        """The JSON form of the event at ``ref``, or None if it is not there."""
        ...

    def events_since(self, since: dt.datetime) -> AsyncIterator[LocatedEvent]:
        """Every event written at or after ``since`` up to now, with its position."""
        ...

    async def enqueue(self, deliveries: Sequence[DeliveryRecord]) -> None:
        """Put deliveries on the deliveries topic; return once stored."""
        ...

    async def record_attempt(self, entry: AttemptLogEntry) -> None:
        """Append an entry to the attempt log; return once stored."""
        ...

    async def ping(self, url: str, request: WebhookRequest) -> AttemptResult:
        """POST ``request`` to ``url`` once (the address policy applies)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


@dataclass
class InMemoryDeliveryDesk:
    """The fake: attempt log, events and queued deliveries in lists; pings go
    out for real (to loopback receivers in tests) through ``sender``."""

    entries: list[AttemptLogEntry] = field(default_factory=list)
    events: list[tuple[EventRef, dict[str, Any]]] = field(default_factory=list)
    queued: list[DeliveryRecord] = field(default_factory=list)
    sender: WebhookSender | None = None

    async def attempts(self, query: AttemptQuery) -> AttemptPage:
        start = (query.window.offset or 0) + query.skip
        found: list[AttemptLogEntry] = []
        for offset in range(start, len(self.entries)):
            entry = self.entries[offset]
            if query.admits(entry):
                found.append(entry)
                if len(found) >= query.limit:
                    more = offset + 1 < len(self.entries)
                    return AttemptPage(found, str(offset + 1) if more else None)
        return AttemptPage(found, None)

    async def find_delivery(self, subscription_id: str, delivery_id: str) -> AttemptLogEntry | None:
        for entry in self.entries:
            wanted = entry.subscription_id == subscription_id and entry.delivery_id == delivery_id
            if wanted and entry.event_ref is not None:
                return entry
        return None

    async def read_event(self, ref: EventRef) -> dict[str, Any] | None:
        for known, document in self.events:
            if (known.partition, known.offset) == (ref.partition, ref.offset):
                return document
        return None

    async def events_since(self, since: dt.datetime) -> AsyncIterator[LocatedEvent]:
        stamp = since.timestamp() * 1000
        for ref, document in list(self.events):
            if ref.timestamp_ms >= stamp:
                yield ref, document

    async def enqueue(self, deliveries: Sequence[DeliveryRecord]) -> None:
        self.queued.extend(deliveries)

    async def record_attempt(self, entry: AttemptLogEntry) -> None:
        self.entries.append(entry)

    async def ping(self, url: str, request: WebhookRequest) -> AttemptResult:
        if self.sender is None:
            raise KafkaUnavailableError("this fake desk has no sender")
        return await self.sender.send(url, request)

    async def close(self) -> None:
        """Nothing to release (the sender belongs to the test)."""


class KafkaDeliveryDesk:
    """The desk on a Kafka cluster, connecting on first use."""

    def __init__(
        self,
        bootstrap_servers: str,
        topics: TopicNames,
        policy: AddressPolicy,
        *,
        http: WebhookHttpSettings | None = None,
        scan_budget: int = 100_000,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topics = topics
        self._policy = policy
        self._http = http or WebhookHttpSettings()
        self._scan_budget = scan_budget
        self._producer: AIOKafkaProducer | None = None
        self._sender: WebhookSender | None = None
        self._opening = asyncio.Lock()

    async def attempts(self, query: AttemptQuery) -> AttemptPage:
        """One page, scanning at most ``scan_budget`` records of the log."""
        bounded = replace(query, window=replace(query.window, budget=self._scan_budget))
        return await read_attempts(self._bootstrap, self._topics.delivery_attempts, bounded)

    async def find_delivery(self, subscription_id: str, delivery_id: str) -> AttemptLogEntry | None:
        """Scan the subscription's whole log for an entry of the delivery."""
        page = await read_attempts(
            self._bootstrap,
            self._topics.delivery_attempts,
            AttemptQuery(subscription_id, delivery_id=delivery_id, limit=1_000_000),
        )
        located = [entry for entry in page.entries if entry.event_ref is not None]
        return located[-1] if located else None

    async def read_event(self, ref: EventRef) -> dict[str, Any] | None:
        """Read the one record at ``ref`` from the events topic."""
        partitions = await existing_partitions(self._bootstrap, self._topics.events)
        tp = TopicPartition(self._topics.events, ref.partition)
        if partitions is None or tp not in partitions:
            return None
        consumer = self._consumer()
        try:
            await consumer.start()
            consumer.assign([tp])
            end = (await consumer.end_offsets([tp]))[tp]
            if ref.offset >= end:
                return None
            consumer.seek(tp, ref.offset)
            batch = await consumer.getmany(tp, timeout_ms=5000, max_records=1)
            records = batch.get(tp, [])
            if not records or records[0].offset != ref.offset or records[0].value is None:
                return None
            return event_document(default_codec(), records[0].value)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"cannot read {self._topics.events}: {exc}") from exc
        finally:
            await consumer.stop()

    async def events_since(self, since: dt.datetime) -> AsyncIterator[LocatedEvent]:
        """Every event from the first offset at or after ``since`` in each
        partition (Kafka's offsets for times) up to the end as of the call."""
        topic = self._topics.events
        codec = default_codec()
        assigned = await existing_partitions(self._bootstrap, topic)
        if assigned is None:
            return
        consumer = self._consumer()
        try:
            await consumer.start()
            consumer.assign(assigned)
            end = await consumer.end_offsets(assigned)
            found = await consumer.offsets_for_times(
                dict.fromkeys(assigned, int(since.timestamp() * 1000))
            )
            remaining = set()
            for tp in assigned:
                start = found.get(tp)
                if start is not None and start.offset < end[tp]:
                    consumer.seek(tp, start.offset)
                    remaining.add(tp)
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=1000, max_records=1000)
                for tp, records in batches.items():
                    for record in records:
                        if record.offset >= end[tp] or record.value is None:
                            continue
                        try:
                            document = event_document(codec, record.value)
                        except EventFormatError:
                            log.warning("api.replay_bad_event", offset=record.offset)
                            continue
                        ref = EventRef(topic, tp.partition, record.offset, record.timestamp)
                        yield ref, document
                for tp in list(remaining):
                    if await consumer.position(tp) >= end[tp]:
                        remaining.discard(tp)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"cannot read {topic}: {exc}") from exc
        finally:
            await consumer.stop()

    async def enqueue(self, deliveries: Sequence[DeliveryRecord]) -> None:
        """Produce the deliveries and wait for every ack."""
        producer = await self._open_producer()
        topic = self._topics.deliveries
        try:
            sent = [await producer.send(topic, key=d.key(), value=d.encode()) for d in deliveries]
            await asyncio.gather(*sent)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {topic} failed: {exc}") from exc

    async def record_attempt(self, entry: AttemptLogEntry) -> None:
        """Produce one attempt-log entry and wait for the ack."""
        producer = await self._open_producer()
        topic = self._topics.delivery_attempts
        try:
            await producer.send_and_wait(
                topic, key=entry.subscription_id.encode("utf-8"), value=entry.to_json()
            )
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {topic} failed: {exc}") from exc

    async def ping(self, url: str, request: WebhookRequest) -> AttemptResult:
        """Send the ping with a sender of this desk's own."""
        async with self._opening:
            if self._sender is None:
                sender = WebhookSender(self._policy, self._http)
                await sender.start()
                self._sender = sender
        return await self._sender.send(url, request)

    async def close(self) -> None:
        """Stop the producer and the sender, if they were opened."""
        if self._producer is not None:
            producer, self._producer = self._producer, None
            await producer.stop()
        if self._sender is not None:
            sender, self._sender = self._sender, None
            await sender.close()

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            group_id=None,
        )

    async def _open_producer(self) -> AIOKafkaProducer:
        async with self._opening:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    linger_ms=5,
                    max_request_size=4 * 1024 * 1024,
                    partitioner=KeyPartitioner(),
                )
                await start_producer(producer, self._bootstrap)
                self._producer = producer
            return self._producer
