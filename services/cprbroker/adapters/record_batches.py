"""Producing many records at once through aiokafka's batch API.

``AIOKafkaProducer.send`` costs a future, a partitioner call and a trip
through the accumulator per record, which is most of a producer's time when a
stream processor writes thousands of small records a second. A
:class:`RecordBatcher` fills one ``BatchBuilder`` per topic partition instead
(``create_batch`` / ``send_batch``), sends them all, and waits for every
acknowledgement: the records of one call land in the order given within each
partition, exactly as one ``send`` per record would place them (keys go
through the Java client's murmur2 partitioner, like aiokafka's default).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from aiokafka.structs import TopicPartition

from cprbroker.core.errors import KafkaUnavailableError

Headers = Sequence[tuple[str, bytes]]


@dataclass(frozen=True, slots=True)
class OutgoingRecord:
    """One record to produce; ``partition`` None lets the key choose it
    (partition 0 for a record without a key)."""

    topic: str
    key: bytes | None
    value: bytes | None
    headers: Headers = ()
    partition: int | None = None


def partition_for(key: bytes, partitions: int) -> int:
    """The partition the Java client's default partitioner (and aiokafka's)
    gives ``key`` among ``partitions``."""
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions


SentBatch = tuple[TopicPartition, int, "asyncio.Future[Any]"]
"""A batch handed to the producer: its partition, record count and future."""


async def acknowledged(sent: Sequence[SentBatch]) -> dict[TopicPartition, int]:
    """Wait until every batch in ``sent`` is acknowledged; the offset of the
    last record per topic partition. :class:`KafkaUnavailableError` if Kafka
    refused any."""
    results = await asyncio.gather(*(future for _, _, future in sent), return_exceptions=True)
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        raise KafkaUnavailableError(
            f"{len(failures)} of {len(sent)} record batches were not acknowledged: {failures[0]}"
        ) from failures[0]
    last: dict[TopicPartition, int] = {}
    # No failures: every result is aiokafka's (untyped) RecordMetadata.
    for (tp, count, _), metadata in zip(sent, cast("list[Any]", results), strict=True):
        last[tp] = max(last.get(tp, -1), int(metadata.offset) + count - 1)
    return last


class RecordBatcher:
    """Produces sequences of records as one batch per topic partition."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._partitions: dict[str, int] = {}

    async def _partition_count(self, topic: str) -> int:
        count = self._partitions.get(topic)
        if count is None:
            found: set[int] = await self._producer.partitions_for(topic)
            count = self._partitions[topic] = len(found)
        return count

    async def produce(self, records: Iterable[OutgoingRecord]) -> dict[TopicPartition, int]:
        """Produce ``records`` and wait until Kafka acknowledged all of them.

        Returns the offset of the last record written per topic partition.
        Raises :class:`KafkaUnavailableError` when any batch failed (then some
        of the records may have been written: callers retry the whole call,
        which is why everything cprbroker writes this way is idempotent by
        key or carries a deterministic id).
        """
        return await acknowledged(await self.submit(records))

    async def submit(self, records: Iterable[OutgoingRecord]) -> list[SentBatch]:
        """Hand ``records`` to the producer without waiting for Kafka; pass
        the result to :func:`acknowledged`. Records of later calls follow
        those of earlier ones in each partition."""
        try:
            groups: dict[TopicPartition, list[OutgoingRecord]] = {}
            for record in records:
                tp = TopicPartition(record.topic, await self._partition(record))
                groups.setdefault(tp, []).append(record)
            sent: list[SentBatch] = []
            for tp, group in groups.items():
                sent.extend(await self._send_partition(tp, group))
        except KafkaError as exc:
            raise KafkaUnavailableError(f"producing a batch of records failed: {exc}") from exc
        return sent

    async def _partition(self, record: OutgoingRecord) -> int:
        if record.partition is not None:
            return record.partition
        if record.key is None:
            # Only dead letters of keyless input have neither; one partition
            # keeps them in the order they failed.
            return 0
        return partition_for(record.key, await self._partition_count(record.topic))

    async def _send_partition(
        self, tp: TopicPartition, records: list[OutgoingRecord]
    ) -> list[SentBatch]:
        """Send ``records`` in as few batches as the batch size allows."""
        producer = self._producer
        sent: list[SentBatch] = []
        batch, count = producer.create_batch(), 0
        for record in records:
            headers = list(record.headers)
            # An empty batch takes any record, however large (aiokafka).
            while (
                batch.append(key=record.key, value=record.value, timestamp=None, headers=headers)
                is None
            ):
                if count == 0:
                    message = f"aiokafka refused a record for {tp.topic} in an empty batch"
                    raise KafkaUnavailableError(message)
                sent.append((tp, count, await self._send(batch, tp)))
                batch, count = producer.create_batch(), 0
            count += 1
        if count:
            sent.append((tp, count, await self._send(batch, tp)))
        return sent

    async def _send(self, batch: Any, tp: TopicPartition) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = await self._producer.send_batch(
            batch, tp.topic, partition=tp.partition
        )
        return future
