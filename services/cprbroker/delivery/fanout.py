"""Fan-out: every event on ``cpr.events`` becomes one delivery record per
matching subscription on ``cpr.deliveries`` (keyed by subscription id).

Events are handled in order, one batch at a time; the deliveries are batched
by the producer. Commit order: every delivery record written so far is
acknowledged (the sink's flush), then the events offsets are committed. A
crash between the two re-runs the fan-out of those events; the duplicates
carry the same ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from cprbroker.adapters.avro_codec import EventCodec
from cprbroker.adapters.delivery_matching import event_document, event_facts
from cprbroker.adapters.delivery_outbox import RecordSink
from cprbroker.adapters.delivery_records import DeliveryRecord, EventRef, encode_event
from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.core.errors import EventFormatError, KafkaUnavailableError
from cprbroker.delivery.view import SubscriptionView

log = structlog.get_logger(__name__)

_YIELD_EVERY = 8


class FanOut:
    """One member of the fan-out consumer group."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        events_topic: str,
        deliveries_topic: str,
        group_id: str,
        view: SubscriptionView,
        sink: RecordSink,
        codec: EventCodec,
        metrics: DeliveryMetrics,
        commit_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._events_topic = events_topic
        self._deliveries_topic = deliveries_topic
        self._group_id = group_id
        self._view = view
        self._sink = sink
        self._codec = codec
        self._metrics = metrics
        self._commit_interval = commit_interval
        self._clock = clock
        self._consumer: AIOKafkaConsumer | None = None
        self._positions: dict[TopicPartition, int] = {}
        self._committed: dict[TopicPartition, int] = {}
        self._stopping = False
        self._last_commit = 0.0

    async def start(self) -> None:
        """Join the fan-out group."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            # Many events per fetch under load; at most 25 ms of waiting when quiet.
            fetch_max_wait_ms=25,
            fetch_min_bytes=32 * 1024,
        )
        try:
            await consumer.start()
            consumer.subscribe([self._events_topic], listener=_Rebalance(self))
        except KafkaError as exc:
            await consumer.stop()
            raise KafkaUnavailableError(f"fan-out cannot join {self._group_id}: {exc}") from exc
        self._consumer = consumer

    async def run(self) -> None:
        """Fan out events until :meth:`request_stop`."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("FanOut.run() before start()")
        try:
            while not self._stopping:
                batches = await consumer.getmany(timeout_ms=100, max_records=500)
                for tp, records in batches.items():
                    for record in records:
                        await self._fan_out(record)
                        self._positions[tp] = record.offset + 1
                        if record.offset % _YIELD_EVERY == 0:
                            # Decoding and matching are CPU work: let the
                            # sender's requests make progress in between.
                            await asyncio.sleep(0)
                if self._clock() - self._last_commit >= self._commit_interval:
                    await self.commit()
        except KafkaError as exc:
            raise KafkaUnavailableError(f"fan-out lost Kafka: {exc}") from exc

    async def _fan_out(self, record: ConsumerRecord[bytes, bytes]) -> None:
        self._metrics.fanout_events.inc()
        if record.value is None:
            return
        try:
            document = event_document(self._codec, record.value)
        except EventFormatError as exc:
            # Not deliverable by anyone; the processor wrote it and must be fixed.
            # The decoder's message may quote field values, so it stays out of the log.
            log.error(  # noqa: TRY400 - a traceback would not help either
                "delivery.bad_event",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=type(exc).__name__,
            )
            return
        recipients = self._view.recipients(event_facts(document))
        if not recipients:
            return
        event_json = encode_event(document)
        ref = EventRef(record.topic, record.partition, record.offset, record.timestamp)
        for subscription in recipients:
            delivery = DeliveryRecord(
                subscription_id=subscription.id, event=document, event_ref=ref,
                event_json=event_json,
            )  # fmt: skip
            await self._sink.send(self._deliveries_topic, delivery.key(), delivery.encode())
        self._metrics.fanout_deliveries.inc(len(recipients))

    async def commit(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        """Flush every delivery written, then commit the events offsets."""
        self._last_commit = self._clock()
        consumer = self._consumer
        if consumer is None:
            return
        wanted = self._positions if partitions is None else {
            tp: self._positions[tp] for tp in partitions if tp in self._positions
        }  # fmt: skip
        offsets = {tp: o for tp, o in wanted.items() if self._committed.get(tp) != o}
        if not offsets:
            return
        # A delivery that could not be stored fails the fan-out here, before
        # the commit: the events are fanned out again after the restart.
        await self._sink.flush()
        try:
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        except KafkaError as exc:
            # A rebalance under way: the deliveries are stored; whoever owns the
            # partitions next re-runs these events (duplicates, same webhook-id).
            log.warning("delivery.fanout_commit_failed", error=str(exc))
            return
        self._committed.update(offsets)

    async def revoked(self, partitions: list[TopicPartition]) -> None:
        """Commit what was fanned out of ``partitions`` before giving them up."""
        try:
            await self.commit(partitions)
        except KafkaUnavailableError as exc:
            log.warning("delivery.fanout_commit_on_revoke_failed", error=str(exc))
        for tp in partitions:
            self._positions.pop(tp, None)
            self._committed.pop(tp, None)

    def request_stop(self) -> None:
        """Stop fetching; :meth:`run` returns after its current batch."""
        self._stopping = True

    async def stop(self) -> None:
        """Commit what was fanned out, then leave the group."""
        self._stopping = True
        consumer, self._consumer = self._consumer, None
        if consumer is None:
            return
        try:
            self._consumer = consumer
            await self.commit()
        finally:
            self._consumer = None
            with contextlib.suppress(KafkaError):
                await consumer.stop()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, fan_out: FanOut) -> None:
        self._fan_out = fan_out

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._fan_out.revoked(revoked)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        log.info("delivery.fanout_assigned", partitions=sorted(tp.partition for tp in assigned))
