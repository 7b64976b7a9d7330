"""The processor as a faust-streaming app: ``cpr.person-records`` in, business
events on ``cpr.events`` out, the replica in a faust Table.

The replica table (``<app_id>-replica-changelog``) maps a PNR to the person's
:class:`~cprbroker.processor.replica_codec.ReplicaEntry`; faust keeps it in
RocksDB (``store=rocksdb``, a cache under ``data_dir``) with the changelog
topic as the durable copy, or in memory.

Commit order, per batch of up to ``batch_size`` messages (``take_events``):

1. derive the batch (:class:`~cprbroker.processor.batch.BatchDeriver`);
2. produce its events, dead letters and newly known PNRs, and wait until
   Kafka acknowledged every one;
3. only then write the new replica entries to the table's changelog, wait for
   those acknowledgements too, and apply them to the table's store (RocksDB
   or memory) with the changelog offsets, the way faust's own changelog
   recovery applies a batch;
4. the batch's messages are acknowledged to faust, which commits their
   offsets.

So after a SIGKILL at any point the restarted processor either re-reads a
message whose replica entry was not written (and produces its events again,
with the same deterministic ids), or finds the entry written, which happens
only after its events were acknowledged, and skips the person. No event is
lost; duplicates carry the same id.

The batch's records go out through one aiokafka producer of the processor's
own with one record batch per topic partition
(:class:`~cprbroker.adapters.record_batches.RecordBatcher`), not through
faust's per-record ``send`` and per-key changelog writes, which cost more
than the derivation itself.

End-of-file marks of a full extract are forwarded to the one-partition topic
``<app_id>-full-loads``; when every partition of ``cpr.person-records`` has
reported the file, the processor publishes ``!full-load`` = complete on the
known-PNRs topic (see :mod:`cprbroker.adapters.known_persons`).
"""

from __future__ import annotations

import json
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import faust
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import TopicPartition
from faust.streams import _current_event

from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.known_persons import FULL_LOAD_KEY
from cprbroker.adapters.record_batches import OutgoingRecord, RecordBatcher
from cprbroker.core.errors import InfrastructureError, KafkaUnavailableError
from cprbroker.processor.batch import BatchDeriver, BatchOutput, ReplicaUpdate
from cprbroker.processor.settings import ProcessorSettings

log = structlog.get_logger(__name__)

KNOWN_VALUE = b"1"
_RAW: dict[str, Any] = {
    "key_type": bytes,
    "value_type": bytes,
    "key_serializer": "raw",
    "value_serializer": "raw",
}


def _raw_table(table: Any) -> Any:
    """``table`` with keys and values stored as the bytes given (the codecs
    live in cprbroker). faust's Table takes no serializer arguments and
    defaults to JSON; its store reads these attributes when first used."""
    table.key_type = bytes
    table.value_type = bytes
    table.key_serializer = "raw"
    table.value_serializer = "raw"
    return table


def broker_urls(bootstrap_servers: str) -> str:
    """faust's broker URL list for a Kafka bootstrap list ``host:port,...``."""
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap_servers.split(","))


def faust_app(settings: ProcessorSettings) -> faust.App:
    """The faust app with the processor's configuration (no agents yet)."""
    return faust.App(
        settings.app_id,
        broker=broker_urls(settings.bootstrap_servers),
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=1,
        table_standby_replicas=0,
        consumer_auto_offset_reset="earliest",
        # Commit by time (commit_interval) or after ten batches, whichever first:
        # each commit flushes the producer, which stalls intake for a moment.
        broker_commit_every=10 * settings.batch_size,
        broker_commit_interval=settings.commit_interval,
        # A killed worker's group member lingers until its session times out.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=2.0,
        broker_rebalance_timeout=30.0,
        producer_acks=-1,
        producer_linger=settings.linger_ms / 1000.0,
        producer_max_batch_size=settings.batch_bytes,
        producer_max_request_size=max(4 * 1024 * 1024, settings.batch_bytes),
        producer_compression_type=settings.compression_type,
        stream_buffer_maxsize=max(4096, 2 * settings.batch_size),
        stream_recovery_delay=0.0,
        web_enabled=False,
    )


class Processor:
    """The processor's faust app with its topics, tables and agents."""

    def __init__(
        self, settings: ProcessorSettings, deriver: BatchDeriver, *, partitions: int
    ) -> None:
        self.settings = settings
        self.app = faust_app(settings)
        self._deriver = deriver
        topics = settings.topics
        self._events_topic = topics.events
        self._dlq_topic = topics.person_records_dlq
        self._known_topic = settings.known_pnrs_topic
        self.records = self.app.topic(topics.person_records, **_RAW)
        self.replica = _raw_table(
            self.app.Table("replica", partitions=partitions, help="PNR -> replica entry")
        )
        self.loads_topic = self.app.topic(
            f"{settings.app_id}-full-loads", partitions=1, internal=True, **_RAW
        )
        self.loads = _raw_table(
            self.app.Table("full-loads", partitions=1, help="file id -> partitions done")
        )
        # faust throttles intake (and logs a warning) whenever more than
        # ``max_messages`` changelog writes wait in its producer buffer; a batch
        # writes up to ``batch_size`` at once, by design.
        self.app.producer.buffer.max_messages = max(100, 4 * settings.batch_size)
        self._output: AIOKafkaProducer | None = None
        self._batcher: RecordBatcher | None = None
        self.batches = 0
        self.app.agent(self.records, name="derive")(self._derive)
        self.app.agent(self.loads_topic, name="full-loads")(self._track_full_loads)

    async def _derive(self, source: faust.StreamT[bytes]) -> None:
        settings = self.settings
        # The agent is given a faust Stream; StreamT does not declare take_events.
        stream = cast("faust.Stream[bytes]", source)
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_seconds):
            try:
                await self.handle_batch(batch)
            except InfrastructureError as exc:
                # Kafka refused the batch's output: stop the whole app rather
                # than let faust restart the agent past an unacknowledged
                # batch; the next start processes it again from the last commit.
                log.exception("processor.batch_failed")
                await self.app.crash(exc)
                raise

    async def start_output(self) -> None:
        """Start the producer the batches are written with."""
        settings = self.settings
        # No linger: a batch is complete when handed over, and the agent waits
        # for its acknowledgement before it takes the next one.
        producer = AIOKafkaProducer(
            bootstrap_servers=settings.bootstrap_servers,
            acks="all",
            linger_ms=0,
            max_batch_size=settings.batch_bytes,
            max_request_size=max(4 * 1024 * 1024, settings.batch_bytes),
            compression_type=settings.compression_type,
        )
        await start_producer(producer, settings.bootstrap_servers)
        self._output, self._batcher = producer, RecordBatcher(producer)

    async def stop_output(self) -> None:
        """Flush and stop the batches' producer (after the app stopped)."""
        if self._output is not None:
            await self._output.stop()
            self._output = self._batcher = None

    @property
    def _batches(self) -> RecordBatcher:
        if self._batcher is None:
            raise KafkaUnavailableError("the processor's producer is not started")
        return self._batcher

    async def handle_batch(self, batch: Sequence[Any]) -> None:
        """Derive ``batch`` (faust events), produce its output, then update the
        replica (module docstring: the commit order)."""
        # The store itself, not the table: the table's ``get`` asks the store
        # whether it holds the key and then reads it, two RocksDB reads a person.
        store = self.replica.data
        reading = [0.0]

        def lookup(position: int, key: bytes) -> bytes | None:
            # The store picks the RocksDB partition from the current event.
            _set_current_event(batch[position])
            began = time.perf_counter()
            value: bytes | None = store.get(key)
            reading[0] += time.perf_counter() - began
            return value

        started = time.perf_counter()
        messages = [(event.message.key, event.message.value) for event in batch]
        out = self._deriver.derive_batch(messages, lookup)
        derived = time.perf_counter()
        await self._batches.produce(self._outgoing(out))
        produced = time.perf_counter()
        await self._write_replica(batch, out.updates)
        log.debug(
            "processor.batch_timing",
            messages=len(batch),
            derive_ms=round((derived - started) * 1000),
            read_ms=round(reading[0] * 1000),
            produce_ms=round((produced - derived) * 1000),
            table_ms=round((time.perf_counter() - produced) * 1000),
        )
        for end in out.file_ends:
            log.info(
                "processor.file_end",
                file_id=end.file.file_id,
                partition=end.partition,
                full=end.file.full,
            )
            if end.file.full:
                document = {"partition": end.partition, "partitions": end.partitions}
                await self.loads_topic.send(
                    key=end.file.file_id.encode(), value=json.dumps(document).encode()
                )
        self.batches += 1
        if out.dead_letters or out.skipped:
            log.info(
                "processor.batch",
                messages=len(batch),
                applied=out.applied,
                skipped=out.skipped,
                dead_letters=len(out.dead_letters),
                events=len(out.events),
            )

    def _outgoing(self, out: BatchOutput) -> list[OutgoingRecord]:
        """The batch's events, dead letters and newly known PNRs."""
        records = [
            OutgoingRecord(self._events_topic, key, value, headers)
            for key, value, headers in out.events
        ]
        records += [
            OutgoingRecord(self._dlq_topic, key, value, headers)
            for key, value, headers in out.dead_letters
        ]
        records += [OutgoingRecord(self._known_topic, key, KNOWN_VALUE) for key in out.known]
        return records

    async def _write_replica(self, batch: Sequence[Any], updates: Sequence[ReplicaUpdate]) -> None:
        """Write the new replica entries to the changelog (the durable copy),
        then to the store with their changelog offsets.

        The changelog partition of an entry is the partition of the message it
        came from (faust's co-partitioning of a table with its source topic).
        """
        if not updates:
            return
        changelog = self.replica.changelog_topic_name
        partitions = [batch[update.position].message.partition for update in updates]
        offsets = await self._batches.produce(
            OutgoingRecord(changelog, update.key, update.value, partition=partition)
            for update, partition in zip(updates, partitions, strict=True)
        )
        written = [
            _ChangelogEntry(
                _ChangelogMessage(
                    TopicPartition(changelog, partition),
                    offsets[TopicPartition(changelog, partition)],
                    partition,
                    update.key,
                    update.value,
                )
            )
            for update, partition in zip(updates, partitions, strict=True)
        ]
        self.replica.data.apply_changelog_batch(written, _same, _same)

    async def _track_full_loads(self, stream: faust.StreamT[bytes]) -> None:
        producer = self.app.producer
        async for event in stream.events():
            file_key, value = event.message.key, event.message.value
            if file_key is None or value is None:
                log.warning("processor.bad_full_load_progress")
                continue
            document = json.loads(value)
            done = set(json.loads(self.loads.get(file_key) or b"[]"))
            done.add(int(document["partition"]))
            self.loads[file_key] = json.dumps(sorted(done)).encode()
            if len(done) >= int(document["partitions"]):
                marker = json.dumps({"complete": True}).encode()
                future = await producer.send(
                    self._known_topic, FULL_LOAD_KEY, marker, None, None, None
                )
                await future
                log.info("processor.full_load_complete", file_id=file_key.decode())


@dataclass(frozen=True, slots=True)
class _ChangelogMessage:
    """What a faust store reads of a changelog message it applies."""

    tp: TopicPartition
    offset: int
    partition: int
    key: bytes
    value: bytes


@dataclass(frozen=True, slots=True)
class _ChangelogEntry:
    """A changelog record as faust's ``Store.apply_changelog_batch`` takes it."""

    message: _ChangelogMessage


def _same(value: Any) -> Any:
    return value


def _set_current_event(event: Any) -> None:
    """Make ``event`` the current event of this task. A faust table chooses
    the RocksDB partition and the changelog partition of a read or write from
    the current event; in a batch that must be the event of the person at
    hand, not the last one taken.

    Only the context variable is set, never the stream's ``current_event``
    attribute: ``take_events`` fills its buffer from that attribute in another
    task, and changing it here would put the wrong event in the next batch.
    faust offers no public setter for the variable.
    """
    _current_event.set(weakref.ref(event))
