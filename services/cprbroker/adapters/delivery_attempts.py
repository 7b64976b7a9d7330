"""The attempt log: one entry per thing that happened to a delivery (an HTTP
attempt, a deferral, a move to the dead-letter topic) on
``cpr.delivery-attempts``, keyed by subscription id.

The delivery role appends; the API reads a subscription's entries back for
``GET /v1/subscriptions/{id}/deliveries``. Entries carry ids and outcomes,
never the payload or the person's CPR number.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import time
from collections.abc import Mapping
from contextlib import aclosing
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cprbroker.adapters.delivery_outbox import KeyPartitioner
from cprbroker.adapters.delivery_records import EventRef
from cprbroker.adapters.delivery_scan import ScanProgress, ScanWindow, scan_key_partition
from cprbroker.core.errors import KafkaUnavailableError

log = structlog.get_logger(__name__)

ENTRIES_PER_RECORD = 500
"""At most this many entries in one record (about 200 kB, well under 1 MB)."""


class AttemptStatus(StrEnum):
    """What one attempt-log entry reports."""

    DELIVERED = "delivered"  # the endpoint answered 2xx
    FAILED = "failed"  # the attempt failed; the delivery is retried
    GONE = "gone"  # the endpoint answered 410: the subscription is disabled
    DEFERRED = "deferred"  # not attempted (circuit open): moved to a retry tier
    DEAD_LETTERED = "dead_lettered"  # moved to the dead-letter topic
    DROPPED = "dropped"  # the subscription no longer exists
    PING = "ping"  # a test ping asked for through the API


@dataclass(frozen=True, slots=True)
class AttemptLogEntry:
    """One entry of a subscription's attempt log.

    ``delivery_id`` is the ``webhook-id`` of the delivery (stable across
    retries); ``attempt`` numbers the HTTP attempts of the delivery from 1
    (an entry without an HTTP attempt repeats the last number, 0 if none);
    ``next_attempt_at`` is when a retry is due, for entries that scheduled one.
    """

    at: float
    subscription_id: str
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    status: AttemptStatus
    stage: str
    http_status: int | None = None
    latency_ms: float | None = None
    error: str | None = None
    next_attempt_at: float | None = None
    event_ref: EventRef | None = None
    origin: str = "event"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_document(self) -> dict[str, Any]:
        """The JSON object form (the record value and the API's answer)."""
        return {
            "at": _iso(self.at),
            "subscription_id": self.subscription_id,
            "delivery_id": self.delivery_id,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "attempt": self.attempt,
            "status": self.status.value,
            "stage": self.stage,
            "http_status": self.http_status,
            "latency_ms": self.latency_ms,
            "error": self.error,
            "next_attempt_at": None if self.next_attempt_at is None else _iso(self.next_attempt_at),
            "origin": self.origin,
            "event_ref": None if self.event_ref is None else self.event_ref.to_document(),
            **({"extra": dict(self.extra)} if self.extra else {}),
        }

    def to_json(self) -> bytes:
        """The record value."""
        return json.dumps(self.to_document(), separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> AttemptLogEntry:
        """Read :meth:`to_json`'s form; ValueError/KeyError/TypeError when it is not one."""
        return cls.from_document(json.loads(raw))

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> AttemptLogEntry:
        """Read :meth:`to_document`'s form; ValueError/KeyError/TypeError when it is not one."""
        ref = document.get("event_ref")
        next_at = document.get("next_attempt_at")
        latency = document.get("latency_ms")
        return cls(
            at=_epoch(document["at"]),
            subscription_id=str(document["subscription_id"]),
            delivery_id=str(document["delivery_id"]),
            event_id=str(document["event_id"]),
            event_type=str(document.get("event_type", "")),
            attempt=int(document["attempt"]),
            status=AttemptStatus(document["status"]),
            stage=str(document.get("stage", "")),
            http_status=document.get("http_status"),
            latency_ms=None if latency is None else float(latency),
            error=document.get("error"),
            next_attempt_at=None if next_at is None else _epoch(next_at),
            event_ref=None if ref is None else EventRef.from_document(ref),
            origin=str(document.get("origin", "event")),
            extra=document.get("extra") or {},
        )


def _epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


class _SecondText:
    """The text of the last whole second formatted (read and replaced as one
    tuple, so a concurrent caller never pairs one second with another's text)."""

    def __init__(self) -> None:
        self._last: tuple[int | None, str] = (None, "")

    def of(self, second: int) -> str:
        last = self._last
        if last[0] != second:
            last = self._last = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return last[1]


_SECONDS = _SecondText()


def _iso(epoch: float) -> str:
    """``datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")``,
    with the date and time of day formatted once per second: every entry
    formats its time, and datetime does it slowly."""
    # As datetime does: microseconds rounded half-even, then cut to milliseconds.
    fraction, whole = math.modf(epoch)
    micros = round(fraction * 1e6)
    if micros >= 1_000_000:
        whole, micros = whole + 1, micros - 1_000_000
    elif micros < 0:
        whole, micros = whole - 1, micros + 1_000_000
    return f"{_SECONDS.of(int(whole))}.{micros // 1000:03d}+00:00"


class AttemptLog(Protocol):
    """Where the delivery role appends attempt-log entries."""

    async def append(self, entry: AttemptLogEntry) -> None:
        """Queue ``entry``; it is durable once :meth:`flush` returns."""
        ...

    async def flush(self) -> None:
        """Wait until every entry appended so far is stored."""
        ...


class InMemoryAttemptLog:
    """The fake for service tests: entries in a list."""

    def __init__(self) -> None:
        self.entries: list[AttemptLogEntry] = []

    async def append(self, entry: AttemptLogEntry) -> None:
        """Keep ``entry``."""
        self.entries.append(entry)

    async def flush(self) -> None:
        """Nothing to wait for."""

    def of(self, subscription_id: str) -> list[AttemptLogEntry]:
        """The entries of one subscription, in order."""
        return [e for e in self.entries if e.subscription_id == subscription_id]


class KafkaAttemptLog:
    """Appends entries to the attempt-log topic in batches: the entries of one
    subscription since the last flush go out as one record (a JSON array), so
    a delivery costs no produced record of its own here. The owner flushes
    before committing offsets (the stages do, every commit interval)."""

    def __init__(self, producer: AIOKafkaProducer, topic: str, *, max_pending: int = 5000) -> None:
        self._producer = producer
        self._topic = topic
        self._max_pending = max_pending
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._count = 0
        self._failures = 0
        self._partitioner = KeyPartitioner()

    async def append(self, entry: AttemptLogEntry) -> None:
        """Keep ``entry`` for the next batch (handed over early when many wait)."""
        self._pending.setdefault(entry.subscription_id, []).append(entry.to_document())
        self._count += 1
        if self._count >= self._max_pending:
            await self._hand_over()

    async def flush(self) -> None:
        """Hand every kept entry to the producer and wait until it sent them."""
        await self._hand_over()
        try:
            await self._producer.flush()
        except KafkaError as exc:
            raise KafkaUnavailableError(f"attempt log write failed: {exc}") from exc

    async def _hand_over(self) -> None:
        pending, self._pending, self._count = self._pending, {}, 0
        if not pending:
            return
        try:
            partitions = sorted(await self._producer.partitions_for(self._topic))
        except KafkaError:
            self._report_failure()
            return
        # Records are packed into one batch per partition (a produced record
        # costs the pure-Python producer about as much as a delivery's whole
        # entry): with many subscriptions, a flush holds a record for each.
        batches: dict[int, Any] = {}
        for subscription_id, documents in pending.items():
            key = subscription_id.encode("utf-8")
            partition = self._partitioner(key, partitions, partitions)
            for start in range(0, len(documents), ENTRIES_PER_RECORD):
                # Read back with json.loads: orjson's compact JSON, at a fraction of the CPU.
                value = orjson.dumps(documents[start : start + ENTRIES_PER_RECORD])
                batch = batches.get(partition)
                if batch is None:
                    batch = batches[partition] = self._producer.create_batch()
                if batch.append(key=key, value=value, timestamp=None) is None:
                    # Full: send it, and start the next with this record (a
                    # batch always takes its first record, however large).
                    await self._send(batch, partition)
                    batch = batches[partition] = self._producer.create_batch()
                    batch.append(key=key, value=value, timestamp=None)
        for partition, batch in batches.items():
            await self._send(batch, partition)

    async def _send(self, batch: Any, partition: int) -> None:
        try:
            sent = await self._producer.send_batch(batch, self._topic, partition=partition)
        except KafkaError:
            self._report_failure()
            return
        sent.add_done_callback(self._report)

    def _report(self, sent: asyncio.Future[Any]) -> None:
        if not sent.cancelled() and sent.exception() is not None:
            self._report_failure()

    def _report_failure(self) -> None:
        # The attempt log is an aid for subscribers; a lost entry must not
        # stop deliveries, but an operator must see it.
        self._failures += 1
        log.warning("delivery.attempt_log_failed", topic=self._topic, failures=self._failures)


@dataclass(frozen=True, slots=True)
class AttemptQuery:
    """Which entries of a subscription a page holds."""

    subscription_id: str
    status: AttemptStatus | None = None
    delivery_id: str | None = None
    window: ScanWindow = field(default_factory=ScanWindow)
    limit: int = 100
    skip: int = 0
    """Entries of the record at ``window.offset`` already shown (a cursor's part)."""

    def admits(self, entry: AttemptLogEntry) -> bool:
        """Whether ``entry`` belongs on the page."""
        if entry.subscription_id != self.subscription_id:
            return False
        if self.status is not None and entry.status is not self.status:
            return False
        return self.delivery_id is None or entry.delivery_id == self.delivery_id


@dataclass(frozen=True, slots=True)
class AttemptPage:
    """Up to ``limit`` entries, oldest first; ``next_cursor`` (``"<offset>"`` or
    ``"<offset>.<entries to skip>"``) continues the scan, None at the end."""

    entries: list[AttemptLogEntry]
    next_cursor: str | None


def parse_cursor(cursor: str) -> tuple[int, int] | None:
    """The (offset, skip) of a page cursor, or None if it is not one."""
    offset, _, skip = cursor.partition(".")
    if not offset.isdigit() or (skip and not skip.isdigit()) or cursor.endswith("."):
        return None
    return int(offset), int(skip or 0)


async def read_attempts(bootstrap_servers: str, topic: str, query: AttemptQuery) -> AttemptPage:
    """One page of a subscription's attempt log, read from Kafka."""
    progress = ScanProgress()
    found: list[AttemptLogEntry] = []
    key = query.subscription_id.encode("utf-8")
    scan = scan_key_partition(bootstrap_servers, topic, key, query.window, progress)
    async with aclosing(scan) as records:
        async for record in records:
            if record.key != key or record.value is None:
                continue
            entries = _entries_of(record.value)
            first = query.skip if record.offset == query.window.offset else 0
            for index in range(first, len(entries)):
                if not query.admits(entries[index]):
                    continue
                found.append(entries[index])
                if len(found) >= query.limit:
                    more = index + 1 < len(entries)
                    cursor = f"{record.offset}.{index + 1}" if more else str(record.offset + 1)
                    return AttemptPage(found, cursor)
    return AttemptPage(found, None if progress.complete else str(progress.next_offset))


def _entries_of(value: bytes) -> list[AttemptLogEntry]:
    """The entries in one record: a JSON array of them (the role's batches) or
    one object (a single entry, e.g. a test ping)."""
    try:
        document = json.loads(value)
        documents = document if isinstance(document, list) else [document]
        return [AttemptLogEntry.from_document(item) for item in documents]
    except (ValueError, KeyError, TypeError, AttributeError):
        log.warning("delivery.bad_attempt_record")
        return []
