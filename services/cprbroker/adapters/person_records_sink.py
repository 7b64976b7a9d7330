"""Publishing to ``cpr.person-records`` and its dead-letter topic.

:class:`KafkaPersonSink` produces with batching and keeps a bounded window of
unacknowledged sends: :meth:`~KafkaPersonSink.flush` returns only once Kafka
has acknowledged every message sent so far, and raises
:class:`~cprbroker.core.errors.KafkaUnavailableError` if any was refused, so
the caller can tell "all of the file is on the topic" from "some may not be".
:class:`InMemoryPersonSink` is the fake for service tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cprbroker.adapters.record_batches import (
    OutgoingRecord,
    RecordBatcher,
    SentBatch,
    acknowledged,
)
from cprbroker.core.errors import KafkaUnavailableError

Headers = Sequence[tuple[str, bytes]]


class PersonSink(Protocol):
    """Where ingest puts person messages, end-of-file marks and dead letters."""

    async def partitions(self) -> int:
        """How many partitions ``cpr.person-records`` has."""
        ...

    async def send_person(self, key: bytes, value: bytes) -> None:
        """Queue one person message (may return before Kafka acknowledged it)."""
        ...

    async def send_mark(self, partition: int, key: bytes, value: bytes) -> None:
        """Queue an end-of-file mark for ``partition``."""
        ...

    async def send_dead_letter(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        """Queue a dead letter."""
        ...

    async def flush(self) -> None:
        """Return once every message queued so far is acknowledged."""
        ...


class KafkaPersonSink:
    """A :class:`PersonSink` on a started :class:`AIOKafkaProducer`.

    Messages are collected and handed to the producer a chunk at a time, as
    one record batch per partition (:class:`RecordBatcher`), in the order
    given; at most about ``window`` messages wait for acknowledgement at once.
    """

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, dead_letter_topic: str, *, window: int
    ) -> None:
        self._producer = producer
        self._batcher = RecordBatcher(producer)
        self._topic = topic
        self._dlq = dead_letter_topic
        self._window = window
        self._chunk = max(1, min(_CHUNK, window // 2))
        self._queued: list[OutgoingRecord] = []
        self._pending: list[tuple[int, list[SentBatch]]] = []

    async def partitions(self) -> int:
        """How many partitions the person-records topic has."""
        try:
            found = await self._producer.partitions_for(self._topic)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"cannot read metadata of {self._topic}: {exc}") from exc
        return len(found)

    async def send_person(self, key: bytes, value: bytes) -> None:
        """Queue one person message; waits for acknowledgements when the
        window of unacknowledged messages is full."""
        await self._queue(OutgoingRecord(self._topic, key, value))

    async def send_mark(self, partition: int, key: bytes, value: bytes) -> None:
        """Queue an end-of-file mark for ``partition``."""
        await self._queue(OutgoingRecord(self._topic, key, value, partition=partition))

    async def send_dead_letter(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        """Queue a dead letter (one without a key goes to partition 0)."""
        partition = None if key is not None else 0
        await self._queue(OutgoingRecord(self._dlq, key, value, tuple(headers), partition))

    async def _queue(self, record: OutgoingRecord) -> None:
        self._queued.append(record)
        if len(self._queued) < self._chunk:
            return
        await self._submit()
        if sum(count for count, _ in self._pending) >= self._window:
            # Wait for the older half only, so the producer keeps a full pipeline.
            half = max(1, len(self._pending) // 2)
            older, self._pending = self._pending[:half], self._pending[half:]
            await acknowledged([batch for _, sent in older for batch in sent])

    async def _submit(self) -> None:
        queued, self._queued = self._queued, []
        if queued:
            self._pending.append((len(queued), await self._batcher.submit(queued)))

    async def flush(self) -> None:
        """Return once every queued message is acknowledged; raise
        KafkaUnavailableError if any was refused."""
        await self._submit()
        pending, self._pending = self._pending, []
        await acknowledged([batch for _, sent in pending for batch in sent])


_CHUNK = 500
"""Messages handed to the producer at once."""


@dataclass
class InMemoryPersonSink:
    """A :class:`PersonSink` that keeps what it is given (tests).

    ``fail_after`` makes the n+1-th person message raise, as a crash mid-file.
    """

    partition_count: int = 3
    persons: list[tuple[bytes, bytes]] = field(default_factory=list)
    marks: list[tuple[int, bytes, bytes]] = field(default_factory=list)
    dead_letters: list[tuple[bytes | None, bytes, dict[str, bytes]]] = field(default_factory=list)
    flushes: int = 0
    fail_after: int | None = None

    async def partitions(self) -> int:
        """The configured partition count."""
        return self.partition_count

    async def send_person(self, key: bytes, value: bytes) -> None:
        """Keep the message (or fail as configured)."""
        if self.fail_after is not None and len(self.persons) >= self.fail_after:
            raise KafkaUnavailableError("in-memory sink: configured failure")
        self.persons.append((key, value))

    async def send_mark(self, partition: int, key: bytes, value: bytes) -> None:
        """Keep the mark."""
        self.marks.append((partition, key, value))

    async def send_dead_letter(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        """Keep the dead letter."""
        self.dead_letters.append((key, value, dict(headers)))

    async def flush(self) -> None:
        """Count the flush."""
        self.flushes += 1
