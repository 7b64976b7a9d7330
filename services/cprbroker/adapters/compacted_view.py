"""A compacted Kafka topic materialised in memory, with read-your-writes.

This is how cprbroker keeps state in Kafka (as Schema Registry and Kafka
Connect do): every process that reads a piece of state consumes its compacted
topic from the beginning into a dict and keeps following it. A writer produces
a record and then waits until its own view has applied that offset, so a read
right after a write sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from cprbroker.core.errors import KafkaUnavailableError

V = TypeVar("V")
log = structlog.get_logger(__name__)

ChangeListener = Callable[[bytes, "V | None"], None]


class CompactedView(Generic[V]):
    """The latest value per key of one compacted topic.

    ``decode`` turns a record value into ``V``; a tombstone (``None`` value)
    removes the key. ``listeners`` are called for every applied record, in
    topic order per partition, so derived indexes stay in step with the view.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        decode: Callable[[bytes], V],
        *,
        listeners: list[ChangeListener[V]] | None = None,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._decode = decode
        self._listeners: list[ChangeListener[V]] = list(listeners or [])
        self._values: dict[bytes, V] = {}
        self._applied: dict[int, int] = {}  # partition -> next offset to apply
        self._progress = asyncio.Condition()
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._failure: BaseException | None = None

    def add_listener(self, listener: ChangeListener[V]) -> None:
        """Call ``listener(key, value)`` for every record applied from now on."""
        self._listeners.append(listener)

    async def start(self, *, catch_up_timeout: float = 60.0) -> None:
        """Read the topic from the beginning up to its current end, then follow it."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            group_id=None,
        )
        try:
            await consumer.start()
            partitions = consumer.partitions_for_topic(self._topic)
            if not partitions:
                await consumer.force_metadata_update()
                partitions = consumer.partitions_for_topic(self._topic)
            if not partitions:
                raise KafkaUnavailableError(f"topic {self._topic} does not exist")
            assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            end = await consumer.end_offsets(assigned)
        except KafkaError as exc:
            await consumer.stop()
            raise KafkaUnavailableError(f"cannot read {self._topic}: {exc}") from exc
        self._consumer = consumer
        self._applied = {tp.partition: 0 for tp in assigned}
        self._task = asyncio.create_task(self._follow(), name=f"view:{self._topic}")
        targets = {tp.partition: offset for tp, offset in end.items()}
        await self.wait_for_offsets(targets, timeout=catch_up_timeout)
        log.info("view.ready", topic=self._topic, keys=len(self._values))

    async def stop(self) -> None:
        """Stop following the topic."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    async def _follow(self) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=5000)
                if not batches:
                    continue
                for tp, records in batches.items():
                    for record in records:
                        self._apply(record.key, record.value)
                    self._applied[tp.partition] = records[-1].offset + 1
                async with self._progress:
                    self._progress.notify_all()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the view is broken; waiters must hear of it
            self._failure = exc
            log.exception("view.failed", topic=self._topic)
            async with self._progress:
                self._progress.notify_all()

    def _apply(self, key: bytes | None, raw: bytes | None) -> None:
        if key is None:
            return
        value: V | None
        if raw is None:
            value = None
            self._values.pop(key, None)
        else:
            value = self._decode(raw)
            self._values[key] = value
        for listener in self._listeners:
            listener(key, value)

    async def wait_for_offsets(self, targets: dict[int, int], *, timeout: float = 30.0) -> None:
        """Wait until every partition has applied records up to (excluding) its target."""

        def reached() -> bool:
            return self._failure is not None or all(
                self._applied.get(partition, 0) >= offset for partition, offset in targets.items()
            )

        try:
            async with asyncio.timeout(timeout):
                async with self._progress:
                    await self._progress.wait_for(reached)
        except TimeoutError as exc:
            raise KafkaUnavailableError(
                f"view of {self._topic} did not catch up within {timeout:.0f}s"
            ) from exc
        if self._failure is not None:
            raise KafkaUnavailableError(f"view of {self._topic} failed") from self._failure

    def get(self, key: bytes) -> V | None:
        """The current value for ``key``, or None."""
        return self._values.get(key)

    def __contains__(self, key: bytes) -> bool:
        return key in self._values

    def __len__(self) -> int:
        return len(self._values)

    def items(self) -> Iterator[tuple[bytes, V]]:
        """Every (key, value) currently in the view."""
        return iter(list(self._values.items()))


class CompactedWriter:
    """Writes records to a compacted topic and waits until a view has applied them."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def write(
        self,
        key: bytes,
        value: bytes | None,
        view: CompactedView[V] | None = None,
        *,
        timeout: float = 30.0,
    ) -> None:
        """Produce ``value`` under ``key`` (None = tombstone); with ``view``, read-your-writes."""
        try:
            metadata = await self._producer.send_and_wait(self._topic, value=value, key=key)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {self._topic} failed: {exc}") from exc
        if view is not None:
            await view.wait_for_offsets({metadata.partition: metadata.offset + 1}, timeout=timeout)
