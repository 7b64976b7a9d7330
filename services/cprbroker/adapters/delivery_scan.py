"""Reading one partition of a keyed delivery topic from a point up to its end.

Every delivery topic is keyed by subscription id, so everything about one
subscription sits in one partition: the attempt log of a subscription, its
dead letters. Reading them means reading that partition from an offset (or a
time) up to the end offset it had when the read began.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError, UnknownTopicOrPartitionError
from aiokafka.partitioner import DefaultPartitioner

from cprbroker.core.errors import KafkaUnavailableError

_partitioner = DefaultPartitioner()


def partition_of_key(key: bytes, partitions: int) -> int:
    """The partition the default producer partitioner gives ``key`` (murmur2,
    as the Java client) on a topic of ``partitions`` partitions."""
    all_partitions = list(range(partitions))
    return int(_partitioner(key, all_partitions, all_partitions))


async def existing_partitions(
    bootstrap_servers: str, topic: str, *, wait: float = 10.0
) -> list[TopicPartition] | None:
    """Every partition of ``topic``, or None when the topic does not exist (a
    log nobody has written to yet is empty, not an error). A topic whose
    partitions have no leader yet is waited for up to ``wait`` seconds."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    try:
        await admin.start()
        while True:
            (description,) = await admin.describe_topics([topic])
            code = description.get("error_code")
            if code == UnknownTopicOrPartitionError.errno:
                return None
            partitions = sorted(p["partition"] for p in description.get("partitions", ()))
            if code == 0 and partitions:
                return [TopicPartition(topic, p) for p in partitions]
            if loop.time() > deadline:
                raise KafkaUnavailableError(f"topic {topic} is not available (error {code})")
            await asyncio.sleep(0.2)
    except KafkaError as exc:
        raise KafkaUnavailableError(f"cannot describe {topic}: {exc}") from exc
    finally:
        await admin.close()


@dataclass(frozen=True, slots=True)
class ScanWindow:
    """Where a scan starts: at ``offset`` if given (and, when ``offset_partition``
    is given, only if the key still maps to that partition: a repartitioned
    topic starts over), else at the first record at or after ``since``, else at
    the beginning. ``budget`` caps the records read."""

    offset: int | None = None
    since: dt.datetime | None = None
    budget: int | None = None
    offset_partition: int | None = None


@dataclass
class ScanProgress:
    """Where a scan stopped: the partition, the next offset to read, and the end
    offset the partition had when the scan began."""

    partition: int = 0
    next_offset: int = 0
    end_offset: int = 0

    @property
    def complete(self) -> bool:
        """Whether the scan read everything up to the end offset."""
        return self.next_offset >= self.end_offset


async def scan_key_partition(
    bootstrap_servers: str,
    topic: str,
    key: bytes,
    window: ScanWindow,
    progress: ScanProgress,
) -> AsyncGenerator[ConsumerRecord[bytes, bytes], None]:
    """Every record in ``key``'s partition of ``topic`` within ``window`` (of any
    key: the caller filters), in offset order, up to the end offset as of the
    call (nothing if the topic does not exist). ``progress`` is updated as
    records are yielded."""
    partitions = await existing_partitions(bootstrap_servers, topic)
    if partitions is None:
        return
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=None,
    )
    try:
        await consumer.start()
        tp = TopicPartition(topic, partition_of_key(key, len(partitions)))
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        start = await _start_offset(consumer, tp, window, end)
        progress.partition, progress.next_offset, progress.end_offset = tp.partition, start, end
        if start >= end:
            return
        consumer.seek(tp, start)
        read = 0
        while progress.next_offset < end:
            if window.budget is not None and read >= window.budget:
                return
            batch = await consumer.getmany(tp, timeout_ms=1000, max_records=1000)
            for record in batch.get(tp, []):
                if record.offset >= end:
                    progress.next_offset = end
                    return
                read += 1
                progress.next_offset = record.offset + 1
                yield record
                if window.budget is not None and read >= window.budget:
                    return
            # Transaction markers and compaction leave offsets without records.
            progress.next_offset = max(progress.next_offset, await consumer.position(tp))
    except KafkaError as exc:
        raise KafkaUnavailableError(f"cannot read {topic}: {exc}") from exc
    finally:
        await consumer.stop()


async def _start_offset(
    consumer: AIOKafkaConsumer, tp: TopicPartition, window: ScanWindow, end: int
) -> int:
    beginning = (await consumer.beginning_offsets([tp]))[tp]
    same_partition = window.offset_partition in (None, tp.partition)
    if window.offset is not None and same_partition:
        return int(min(max(window.offset, beginning), end))
    if window.since is not None:
        stamp = int(window.since.timestamp() * 1000)
        found = (await consumer.offsets_for_times({tp: stamp})).get(tp)
        return int(end if found is None else max(found.offset, beginning))
    return int(beginning)
