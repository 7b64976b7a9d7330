"""Where the delivery role writes records: the deliveries topic, the retry
tiers, the dead-letter topic.

:meth:`RecordSink.send` batches a record and :meth:`RecordSink.flush`
waits for the batch (the fan-out, before it commits);
:meth:`RecordSink.send_and_wait` returns once the broker has the record (a
delivery handed to a retry tier, whose offset may be committed next). Kafka errors become
:class:`~cprbroker.core.errors.KafkaUnavailableError` at this boundary.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2

from cprbroker.core.errors import KafkaUnavailableError

Headers = list[tuple[str, bytes]]


class KeyPartitioner:
    """The default (murmur2, Java-compatible) partitioner, remembering each key's
    partition index: delivery topics are keyed by subscription id, few keys
    written over and over, and murmur2 in pure Python is a large part of what a
    produced record costs. Give it to the producer as ``partitioner=``."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._known: dict[tuple[bytes, int], int] = {}

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:
            # Keyless records are not written by cprbroker; spread them anyway.
            return (available or all_partitions)[0]
        count = len(all_partitions)
        index = self._known.get((key, count))
        if index is None:
            if len(self._known) >= self._max_keys:
                self._known.clear()
            index = self._known[(key, count)] = (murmur2(key) & 0x7FFFFFFF) % count
        return all_partitions[index]


class RecordSink(Protocol):
    """Appends records to topics."""

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Hand one record to the writer's batch; it is stored once :meth:`flush`
        returns."""
        ...

    async def send_and_wait(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Write one record; return once the broker has it."""
        ...

    async def flush(self) -> None:
        """Wait until every batched record is stored; raise KafkaUnavailableError
        if one of them could not be (the caller must not commit past it)."""
        ...


class KafkaRecordSink:
    """A :class:`RecordSink` on an (already started) aiokafka producer."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self._producer = producer
        self._pending: list[asyncio.Future[object]] = []

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Hand the record to the producer's batch."""
        try:
            sent = await self._producer.send(topic, key=key, value=value, headers=headers)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {topic} failed: {exc}") from exc
        self._pending.append(sent)

    async def send_and_wait(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Write the record and wait for the broker's ack."""
        try:
            sent = await self._producer.send(topic, key=key, value=value, headers=headers)
            await sent
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {topic} failed: {exc}") from exc

    async def flush(self) -> None:
        """Wait for every batched record; raise if one failed."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        results = await asyncio.gather(*pending, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise KafkaUnavailableError(
                f"{len(failures)} of {len(pending)} batched records were not stored: {failures[0]}"
            )


class InMemoryRecordSink:
    """The fake for service tests: records per topic, stored at once."""

    def __init__(self) -> None:
        self.topics: dict[str, list[tuple[bytes, bytes]]] = {}

    async def send(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Keep the record."""
        self.topics.setdefault(topic, []).append((key, value))

    async def send_and_wait(
        self, topic: str, key: bytes, value: bytes, headers: Headers | None = None
    ) -> None:
        """Keep the record."""
        await self.send(topic, key, value, headers)

    async def flush(self) -> None:
        """Nothing is pending."""

    def values(self, topic: str) -> list[bytes]:
        """The values written to ``topic``, in order."""
        return [value for _, value in self.topics.get(topic, [])]
