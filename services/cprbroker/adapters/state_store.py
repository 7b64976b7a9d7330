"""State kept in a compacted Kafka topic, applied record by record to an index.

A materialised view that kept a dict of every key would, for a CPR-number
list of a million entries, cost a million Kafka keys in memory on top of the
index that answers questions, so the stores here hand each record to an
``apply(key, value)`` callback and keep nothing themselves: the caller's
index (a set of ints per subscription, a directory of clients) is the only
copy.

Writes are read-your-writes: :meth:`StateLog.write` returns once this
process's own index has applied every record written, so a read right after a
write sees it. Other processes following the same topic see it a little later.

:class:`InMemoryStateLog` over an :class:`InMemoryTopic` is the fake for
service tests; several logs on one topic behave like several processes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from cprbroker.core.errors import KafkaUnavailableError

log = structlog.get_logger(__name__)

Record = tuple[bytes, bytes | None]  # key, value (None = tombstone)
Apply = Callable[[bytes, bytes | None], None]


class StateLog(Protocol):
    """A compacted topic whose records this process applies to its own index."""

    @property
    def topic(self) -> str:
        """The topic name."""
        ...

    @property
    def caught_up(self) -> bool:
        """Whether the records present at start have all been applied."""
        ...

    async def start(self) -> None:
        """Apply the topic from its beginning up to its current end, then follow it."""
        ...

    async def stop(self) -> None:
        """Stop following the topic."""
        ...

    async def write(self, records: Sequence[Record]) -> None:
        """Append ``records``; return once this process has applied all of them."""
        ...


class KafkaStateLog:
    """A :class:`StateLog` on a real Kafka topic."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        apply: Apply,
        producer: AIOKafkaProducer,
        *,
        catch_up_timeout: float = 600.0,
        write_timeout: float = 60.0,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic
        self._apply = apply
        self._producer = producer
        self._catch_up_timeout = catch_up_timeout
        self._write_timeout = write_timeout
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._applied: dict[int, int] = {}  # partition -> next offset to apply
        self._progress = asyncio.Condition()
        self._failure: BaseException | None = None
        self._caught_up = False

    @property
    def topic(self) -> str:
        """The topic name."""
        return self._topic

    @property
    def caught_up(self) -> bool:
        """Whether the records present at start have all been applied."""
        return self._caught_up and self._failure is None

    async def start(self) -> None:
        """Apply the topic from its beginning up to its current end, then follow it."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            group_id=None,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        assigned = await topic_partitions(self._bootstrap, self._topic)
        try:
            await consumer.start()
            consumer.assign(assigned)
            await consumer.seek_to_beginning(*assigned)
            end = await consumer.end_offsets(assigned)
        except KafkaError as exc:
            await consumer.stop()
            raise KafkaUnavailableError(f"cannot read {self._topic}: {exc}") from exc
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._applied = {tp.partition: 0 for tp in assigned}
        self._task = asyncio.create_task(self._follow(assigned), name=f"state:{self._topic}")
        targets = {tp.partition: offset for tp, offset in end.items()}
        await self._wait_for(targets, self._catch_up_timeout)
        self._caught_up = True
        log.info("state.caught_up", topic=self._topic)

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
        self._caught_up = False

    async def _follow(self, assigned: list[TopicPartition]) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=10_000)
                for records in batches.values():
                    for record in records:
                        if record.key is not None:
                            self._apply(record.key, record.value)
                # The position, not the last record + 1: compaction leaves gaps
                # in offsets, and the end offset may lie past the last record.
                for tp in assigned:
                    self._applied[tp.partition] = await consumer.position(tp)
                async with self._progress:
                    self._progress.notify_all()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the index is broken; waiters must hear of it
            self._failure = exc
            log.exception("state.failed", topic=self._topic)
            async with self._progress:
                self._progress.notify_all()

    async def _wait_for(self, targets: dict[int, int], timeout: float) -> None:
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
                f"state of {self._topic} did not catch up within {timeout:.0f}s"
            ) from exc
        if self._failure is not None:
            raise KafkaUnavailableError(f"state of {self._topic} failed") from self._failure

    async def write(self, records: Sequence[Record]) -> None:
        """Append ``records`` in order; return once this process has applied all of them."""
        if not records:
            return
        try:
            futures = [
                await self._producer.send(self._topic, value=value, key=key)
                for key, value in records
            ]
            sent = await asyncio.gather(*futures)
        except KafkaError as exc:
            raise KafkaUnavailableError(f"write to {self._topic} failed: {exc}") from exc
        targets: dict[int, int] = {}
        for metadata in sent:
            targets[metadata.partition] = max(
                targets.get(metadata.partition, 0), metadata.offset + 1
            )
        await self._wait_for(targets, self._write_timeout)


async def topic_partitions(
    bootstrap_servers: str, topic: str, *, wait: float = 30.0
) -> list[TopicPartition]:
    """Every partition of ``topic``; raise KafkaUnavailableError if it does not
    appear within ``wait`` seconds (a topic created a moment ago takes a little
    while to show in the metadata)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        await admin.start()
        while True:
            (description,) = await admin.describe_topics([topic])
            partitions = [p["partition"] for p in description.get("partitions", ())]
            if description.get("error_code") == 0 and partitions:
                return [TopicPartition(topic, p) for p in sorted(partitions)]
            if loop.time() > deadline:
                raise KafkaUnavailableError(f"topic {topic} does not exist")
            await asyncio.sleep(0.2)
    except KafkaError as exc:
        raise KafkaUnavailableError(f"cannot describe {topic}: {exc}") from exc
    finally:
        await admin.close()


class InMemoryTopic:
    """A compacted topic held in memory, shared by the logs of several fake processes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.records: list[Record] = []
        self._followers: list[Apply] = []

    def append(self, records: Sequence[Record]) -> None:
        """Append ``records`` and hand each to every follower at once."""
        for key, value in records:
            self.records.append((key, value))
            for apply in list(self._followers):
                apply(key, value)

    def follow(self, apply: Apply) -> None:
        """Replay every record into ``apply``, then hand it each new one."""
        for key, value in self.records:
            apply(key, value)
        self._followers.append(apply)

    def unfollow(self, apply: Apply) -> None:
        """Stop handing records to ``apply``."""
        with contextlib.suppress(ValueError):
            self._followers.remove(apply)

    def latest(self) -> dict[bytes, bytes]:
        """What compaction would keep: the last value per key, tombstones dropped."""
        result: dict[bytes, bytes] = {}
        for key, value in self.records:
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result


class InMemoryStateLog:
    """A :class:`StateLog` on an :class:`InMemoryTopic` (the fake for service tests)."""

    def __init__(self, topic: InMemoryTopic, apply: Apply) -> None:
        self._topic = topic
        self._apply = apply
        self._started = False

    @property
    def topic(self) -> str:
        """The topic name."""
        return self._topic.name

    @property
    def caught_up(self) -> bool:
        """Whether the log has been started (replay is immediate)."""
        return self._started

    async def start(self) -> None:
        """Replay the topic into the index and follow it."""
        self._topic.follow(self._apply)
        self._started = True

    async def stop(self) -> None:
        """Stop following the topic."""
        self._topic.unfollow(self._apply)
        self._started = False

    async def write(self, records: Sequence[Record]) -> None:
        """Append ``records``; every follower (this one included) applies them at once."""
        if not self._started:
            raise KafkaUnavailableError(f"state of {self._topic.name} is not started")
        self._topic.append(records)
