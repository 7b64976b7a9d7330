"""Publishing to ``cpr.person-records`` and its dead-letter topic.

:class:`KafkaPersonSink` produces with batching and keeps a bounded window of
unacknowledged sends: :meth:`~KafkaPersonSink.flush` returns only once Kafka
has acknowledged every message sent so far, and raises
:class:`~cprbroker.core.errors.KafkaUnavailableError` if any was refused, so
the caller can tell "all of the file is on the topic" from "some may not be".
:class:`InMemoryPersonSink` is the fake for service tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

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
    """A :class:`PersonSink` on a started :class:`AIOKafkaProducer`."""

    def __init__(
        self, producer: AIOKafkaProducer, topic: str, dead_letter_topic: str, *, window: int
    ) -> None:
        self._producer = producer
        self._topic = topic
        self._dlq = dead_letter_topic
        self._window = window
        self._pending: list[asyncio.Future[object]] = []

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
        await self._send(self._topic, key, value)

    async def send_mark(self, partition: int, key: bytes, value: bytes) -> None:
        """Queue an end-of-file mark for ``partition``."""
        await self._send(self._topic, key, value, partition=partition)

    async def send_dead_letter(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        """Queue a dead letter."""
        await self._send(self._dlq, key, value, headers=list(headers))

    async def _send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:
        try:
            future = await self._producer.send(
                topic, value, key=key, partition=partition, headers=headers
            )
        except KafkaError as exc:
            raise KafkaUnavailableError(f"cannot produce to {topic}: {exc}") from exc
        self._pending.append(future)
        if len(self._pending) >= self._window:
            # Wait for the older half only, so the producer keeps a full pipeline.
            half = len(self._pending) // 2
            older, self._pending = self._pending[:half], self._pending[half:]
            await _acknowledged(older)

    async def flush(self) -> None:
        """Return once every queued message is acknowledged; raise
        KafkaUnavailableError if any was refused."""
        pending, self._pending = self._pending, []
        await _acknowledged(pending)


async def _acknowledged(futures: list[asyncio.Future[object]]) -> None:
    if not futures:
        return
    results = await asyncio.gather(*futures, return_exceptions=True)
    failures = [r for r in results if isinstance(r, BaseException)]
    if failures:
        raise KafkaUnavailableError(
            f"{len(failures)} of {len(futures)} messages were not acknowledged: {failures[0]}"
        ) from failures[0]


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
