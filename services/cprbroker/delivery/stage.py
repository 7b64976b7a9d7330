"""A consumer stage that handles the records of each partition concurrently and
commits each partition only up to its lowest unfinished record.

Used for sending (``cpr.deliveries``) and for the retry tiers. Per partition a
*lane* holds the fetched records in offset order and hands them out when they
fall due (at once for new deliveries; at ``due_at`` in a retry tier, whose
records fall due roughly in offset order because they all wait about as
long). Handed-out records run concurrently, so one slow subscription holds up
nothing but its own records, and only its own partition's commit point.

Commit order (quix-streams' checkpoint): outputs of a finished record are
acknowledged before it counts as finished; at a commit the shared writer is
flushed (the attempt log), then the offsets are committed. A commit runs
beside the fetching (intake does not wait for the attempt log's acks), one
commit at a time.

A handler's :class:`~cprbroker.core.errors.InfrastructureError` (Kafka away)
retries the record after a pause; any other exception fails the stage, and
with it the role: a bug must stop the line, not skip a delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeAlias, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from cprbroker.core.errors import InfrastructureError, KafkaUnavailableError
from cprbroker.delivery.offsets import OffsetTracker

log = structlog.get_logger(__name__)

T = TypeVar("T")
# aiokafka ships no type information: a fetched ConsumerRecord.
Record: TypeAlias = Any

_RETRY_PAUSE = 1.0
_MAX_SLEEP = 1.0
_REVOKE_WAIT = 10.0
_YIELD_EVERY = 16


@dataclass(frozen=True, slots=True)
class StageConfig:
    """What a stage consumes and how much it takes on at once."""

    name: str
    topics: tuple[str, ...]
    group_id: str
    max_in_flight: int = 2000
    buffer_per_partition: int = 2000
    commit_interval: float = 1.0
    fetch_max_wait_ms: int = 500
    fetch_min_bytes: int = 1


@dataclass
class _Lane(Generic[T]):
    tp: TopicPartition
    tracker: OffsetTracker = field(default_factory=OffsetTracker)
    buffer: deque[Record] = field(default_factory=deque)
    head: T | None = None  # the first buffered record, prepared
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    in_flight: set[asyncio.Task[None]] = field(default_factory=set)
    dispatcher: asyncio.Task[None] | None = None
    paused: bool = False
    committed: int | None = None


class ConcurrentStage(Generic[T]):
    """One consumer group member handling records concurrently per partition.

    ``prepare`` turns a record into the item handled (it must not raise);
    ``due_of`` says when an item may be handled (epoch seconds); ``handle``
    does the work and returns once its outputs are acknowledged; ``flush``
    stores whatever was batched on the side (the attempt log) before a commit.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        config: StageConfig,
        *,
        prepare: Callable[[Record], T],
        handle: Callable[[T], Awaitable[None]],
        due_of: Callable[[T], float] = lambda item: 0.0,
        flush: Callable[[], Awaitable[None]],
        clock: Callable[[], float] = time.time,
        on_in_flight: Callable[[int], None] = lambda count: None,
    ) -> None:
        self.config = config
        self._bootstrap = bootstrap_servers
        self._prepare = prepare
        self._handle = handle
        self._due_of = due_of
        self._flush = flush
        self._clock = clock
        self._on_in_flight = on_in_flight
        self._slots = asyncio.Semaphore(config.max_in_flight)
        self._in_flight = 0
        self._lanes: dict[TopicPartition, _Lane[T]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._stopping = asyncio.Event()
        self._failure: BaseException | None = None
        self._last_commit = 0.0
        # Commits run beside the fetching (a commit waits for the attempt log's
        # acks, and intake must not stall meanwhile), one at a time.
        self._commit_lock = asyncio.Lock()
        self._committing: asyncio.Task[None] | None = None

    @property
    def failure(self) -> BaseException | None:
        """The exception that failed the stage, if one did."""
        return self._failure

    async def start(self) -> None:
        """Join the consumer group (records flow once :meth:`run` runs)."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            # A long poll: the broker answers as soon as it has a record (or
            # fetch_min_bytes), else after fetch_max_wait_ms. A fetch is asked
            # for only once the last one's records are taken, so under load
            # the records gather on the broker meanwhile and fetches grow by
            # themselves; a quiet topic costs two fetches a second.
            fetch_max_wait_ms=self.config.fetch_max_wait_ms,
            fetch_min_bytes=self.config.fetch_min_bytes,
        )
        try:
            await consumer.start()
            consumer.subscribe(list(self.config.topics), listener=_Rebalance(self))
        except KafkaError as exc:
            await consumer.stop()
            raise KafkaUnavailableError(
                f"stage {self.config.name} cannot join {self.config.group_id}: {exc}"
            ) from exc
        self._consumer = consumer

    async def run(self) -> None:
        """Fetch and hand out records until :meth:`stop`; raise what failed the stage."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("ConcurrentStage.run() before start()")
        try:
            while not self._stopping.is_set() and self._failure is None:
                batches = await consumer.getmany(timeout_ms=100, max_records=1000)
                for tp, records in batches.items():
                    self._take(consumer, tp, records)
                self._commit_in_background()
        except KafkaError as exc:
            raise KafkaUnavailableError(f"stage {self.config.name} lost Kafka: {exc}") from exc
        finally:
            if self._committing is not None:
                await asyncio.gather(self._committing, return_exceptions=True)
        if self._failure is not None:
            raise self._failure

    def _commit_in_background(self) -> None:
        """Start a commit when one is due and none is under way; raise what
        failed the last one (not a Kafka outage: that is logged and retried)."""
        committing = self._committing
        if committing is not None:
            if not committing.done():
                return
            self._committing = None
            committing.result()
        if self._clock() - self._last_commit >= self.config.commit_interval:
            self._last_commit = self._clock()
            self._committing = asyncio.create_task(self._commit_or_wait())

    async def _commit_or_wait(self) -> None:
        # A commit can fail while the group rebalances: what finished stays
        # finished, and the next commit takes it along.
        try:
            await self.commit()
        except InfrastructureError as exc:
            log.warning("delivery.commit_failed", stage=self.config.name, error=str(exc))

    def _take(self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[Record]) -> None:
        lane = self._lanes.get(tp)
        if lane is None:
            return  # revoked while the fetch was under way
        for record in records:
            lane.tracker.take(record.offset)
        # Records are prepared (decoded) one at a time as they reach the head,
        # so a large fetch never holds the event loop for long.
        lane.buffer.extend(records)
        lane.wake.set()
        if not lane.paused and len(lane.buffer) >= self.config.buffer_per_partition:
            consumer.pause(tp)
            lane.paused = True

    async def _dispatch(self, lane: _Lane[T]) -> None:
        low_water = self.config.buffer_per_partition // 2
        handed_out = 0
        while True:
            if not lane.buffer:
                lane.wake.clear()
                await lane.wake.wait()
                continue
            record = lane.buffer[0]
            if lane.head is None:
                lane.head = self._prepare(record)
            item = lane.head
            wait = self._due_of(item) - self._clock()
            if wait > 0:
                # Records of a tier fall due in about offset order: wait for the head.
                await asyncio.sleep(min(wait, _MAX_SLEEP))
                continue
            await self._slots.acquire()
            lane.buffer.popleft()
            lane.head = None
            if lane.paused and len(lane.buffer) <= low_water and self._consumer is not None:
                self._consumer.resume(lane.tp)
                lane.paused = False
            task = asyncio.create_task(self._run_one(lane, record, item))
            lane.in_flight.add(task)
            task.add_done_callback(lane.in_flight.discard)
            handed_out += 1
            if handed_out % _YIELD_EVERY == 0:
                # Let the records already handed out make progress.
                await asyncio.sleep(0)

    async def _run_one(self, lane: _Lane[T], record: Record, item: T) -> None:
        self._in_flight += 1
        self._on_in_flight(self._in_flight)
        try:
            while True:
                try:
                    await self._handle(item)
                    break
                except InfrastructureError as exc:
                    log.warning(
                        "delivery.stage_retry",
                        stage=self.config.name,
                        partition=record.partition,
                        offset=record.offset,
                        error=str(exc),
                    )
                    await asyncio.sleep(_RETRY_PAUSE)
            lane.tracker.finish(record.offset)
        except asyncio.CancelledError:
            raise  # left unfinished: it runs again after a restart
        except Exception as exc:
            log.exception(
                "delivery.stage_failed",
                stage=self.config.name,
                partition=record.partition,
                offset=record.offset,
            )
            self._failure = exc
            self._stopping.set()
        finally:
            self._in_flight -= 1
            self._on_in_flight(self._in_flight)
            self._slots.release()

    async def commit(self, lanes: Iterable[_Lane[T]] | None = None) -> None:
        """Flush the shared writer, then commit each lane up to its lowest
        unfinished record (one commit at a time, so offsets never go back)."""
        async with self._commit_lock:
            await self._commit(lanes)

    async def _commit(self, lanes: Iterable[_Lane[T]] | None) -> None:
        self._last_commit = self._clock()
        consumer = self._consumer
        if consumer is None:
            return
        offsets: dict[TopicPartition, int] = {}
        for lane in list(self._lanes.values()) if lanes is None else lanes:
            offset = lane.tracker.committable()
            if offset is not None and offset != lane.committed:
                offsets[lane.tp] = offset
        if not offsets:
            return
        await self._flush()
        try:
            await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
        except KafkaError as exc:
            raise KafkaUnavailableError(f"stage {self.config.name} commit failed: {exc}") from exc
        for tp, offset in offsets.items():
            if tp in self._lanes:
                self._lanes[tp].committed = offset

    def assigned(self, partitions: Iterable[TopicPartition]) -> None:
        """Open a lane per newly assigned partition."""
        for tp in partitions:
            if tp not in self._lanes:
                lane: _Lane[T] = _Lane(tp)
                lane.dispatcher = asyncio.create_task(self._dispatch(lane))
                self._lanes[tp] = lane

    async def revoked(self, partitions: Iterable[TopicPartition], wait: float) -> None:
        """Close the lanes of ``partitions``: stop handing out, give running
        records ``wait`` seconds, cancel the rest, commit what finished."""
        lanes = [self._lanes[tp] for tp in partitions if tp in self._lanes]
        if not lanes:
            return
        for lane in lanes:
            if lane.dispatcher is not None:
                lane.dispatcher.cancel()
        running = [task for lane in lanes for task in lane.in_flight]
        if running:
            _, late = await asyncio.wait(running, timeout=wait)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        dispatchers = [lane.dispatcher for lane in lanes if lane.dispatcher is not None]
        await asyncio.gather(*dispatchers, return_exceptions=True)
        try:
            await self.commit(lanes)
        except InfrastructureError as exc:
            log.warning("delivery.commit_on_revoke_failed", stage=self.config.name, error=str(exc))
        for lane in lanes:
            self._lanes.pop(lane.tp, None)

    def request_stop(self) -> None:
        """Stop fetching; :meth:`run` returns after its current fetch."""
        self._stopping.set()

    async def stop(self, deadline: float) -> None:
        """Drain: stop intake, give running records until ``deadline`` (a
        ``time.monotonic`` value), cancel the rest, commit, leave the group."""
        self._stopping.set()
        await self.revoked(list(self._lanes), max(0.0, deadline - time.monotonic()))
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            with contextlib.suppress(KafkaError):
                await consumer.stop()


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, stage: ConcurrentStage[Any]) -> None:
        self._stage = stage

    async def on_partitions_revoked(self, revoked: list[TopicPartition]) -> None:
        await self._stage.revoked(revoked, _REVOKE_WAIT)

    async def on_partitions_assigned(self, assigned: list[TopicPartition]) -> None:
        self._stage.assigned(assigned)
        log.info(
            "delivery.partitions_assigned",
            stage=self._stage.config.name,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned),
        )
