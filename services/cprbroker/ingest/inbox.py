"""The inbox: a folder ingest watches for CPR extract files.

Layout (folders are created when missing)::

    <inbox>/            delta files are dropped here
    <inbox>/full/       full extracts (an initial load, or a reload) are dropped here
    <inbox>/processed/  files published to cpr.person-records are moved here
    <inbox>/rejected/   refused files are moved here, each beside <name>.reason.txt

A full extract is recognised by its folder, ``full/``, not by its name: CPR
names files differently per delivery channel, and a full extract and a delta
carry the same kind of 000 record.

Only complete files are taken: names starting with ``.`` and ending in
``.part``, ``.tmp`` or ``.partial`` are ignored (write under such a name,
then rename: a rename within one file system is atomic), and a file must
keep the same size and modification time for ``settle_seconds`` before it is
read (for copies that write in place).

The files taken in one scan are applied in production-date order (PRODDTO of
the 000 record, a full extract before a delta of the same date), whatever
order they arrived in. Each is checked against the last file published
(:func:`~cprbroker.core.events.sequence.check_sequence`) and then:

- published: moved to ``processed/`` (persons refused by the parser went to
  the dead-letter topic, as with ``cprbroker ingest``);
- a gap (its PRODDTOFORRIG is not the last PRODDTO published): it waits up to
  ``gap_wait_seconds`` for the missing delta to arrive, then it is rejected;
- a repeat (already published), older than the last file, a framing error,
  or unreadable: rejected at once. The reason file says which, and why.

When Kafka fails the file stays where it is and is tried again after
``retry_seconds``. One watcher per inbox: two would race for the same files.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from cprbroker.adapters.ingest_state import IngestState
from cprbroker.adapters.person_records_sink import Headers, PersonSink
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.events.sequence import Verdict, check_sequence
from cprbroker.ingest.inbox_layout import (
    REASON_SUFFIX,
    Arrival,
    InboxSettings,
    Rejection,
    complete_name,
    move_aside,
    read_mark,
)
from cprbroker.ingest.run import FileReport, Outcome, connected, ingest_file
from cprbroker.ingest.settings import IngestSettings

log = structlog.get_logger(__name__)

_PROGRESS_EVERY = 100
"""Persons published between two progress marks (a clock read per person is waste)."""

__all__ = [
    "InboxOutcome",
    "InboxSettings",
    "InboxStatus",
    "InboxWatcher",
    "Rejection",
    "watch_inbox",
]


@dataclass(frozen=True, slots=True)
class InboxOutcome:
    """What became of one file (the message names no CPR number)."""

    name: str
    full: bool
    published: bool
    message: str
    rejection: Rejection | None = None
    persons: int = 0
    refused_persons: int = 0
    moved_to: Path | None = None


@dataclass
class InboxStatus:
    """What the watcher is doing, for dashboards, logs and health checks.

    ``connected`` is set once Kafka answered and the last file published is
    known; ``progress_at`` is the watcher's clock at its last sign of progress
    (a scan begun, a person published), None before the first.
    """

    connected: bool = False
    progress_at: float | None = None
    waiting: int = 0
    current: str | None = None
    current_persons: int = 0
    persons_published: int = 0
    processed: int = 0
    rejected: int = 0
    error: str | None = None
    recent: collections.deque[InboxOutcome] = field(
        default_factory=lambda: collections.deque(maxlen=20)
    )

    def finished(self, outcome: InboxOutcome) -> None:
        """Count ``outcome`` (its file has left the inbox)."""
        self.waiting = max(0, self.waiting - 1)
        if outcome.published:
            self.processed += 1
        else:
            self.rejected += 1
        self.recent.append(outcome)


class _CountingSink:
    """A :class:`PersonSink` that counts person messages into an :class:`InboxStatus`."""

    def __init__(self, sink: PersonSink, status: InboxStatus, clock: Callable[[], float]) -> None:
        self._sink = sink
        self._status = status
        self._clock = clock

    async def partitions(self) -> int:
        return await self._sink.partitions()

    async def send_person(self, key: bytes, value: bytes) -> None:
        await self._sink.send_person(key, value)
        status = self._status
        status.current_persons += 1
        status.persons_published += 1
        if status.current_persons % _PROGRESS_EVERY == 0:
            status.progress_at = self._clock()

    async def send_mark(self, partition: int, key: bytes, value: bytes) -> None:
        await self._sink.send_mark(partition, key, value)

    async def send_dead_letter(self, key: bytes | None, value: bytes, headers: Headers) -> None:
        await self._sink.send_dead_letter(key, value, headers)

    async def flush(self) -> None:
        await self._sink.flush()


class InboxWatcher:
    """Takes complete files from an inbox and ingests them (module docstring)."""

    def __init__(
        self,
        settings: InboxSettings,
        *,
        state: IngestState,
        sink: PersonSink,
        status: InboxStatus | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.status = status if status is not None else InboxStatus()
        self._state = state
        self._sink = _CountingSink(sink, self.status, clock)
        self._clock = clock
        # path -> (size, mtime_ns, since when unchanged)
        self._seen: dict[Path, tuple[int, int, float]] = {}
        self._waiting_logged: set[Path] = set()
        settings.create()

    def arrivals(self) -> list[Arrival]:
        """The complete files now in the inbox, in the order they are to be applied."""
        now = self._clock()
        found: dict[Path, bool] = {}
        for folder, full in ((self.settings.root, False), (self.settings.full, True)):
            with contextlib.suppress(FileNotFoundError):
                for entry in os.scandir(folder):
                    if entry.is_file(follow_symlinks=False) and complete_name(entry.name):
                        found[Path(entry.path)] = full
        ready: list[Arrival] = []
        for path, full in found.items():
            try:
                info = path.stat()
            except FileNotFoundError:
                continue
            key = (info.st_size, info.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen[:2] != key:
                self._seen[path] = (*key, now)
                if self.settings.settle_seconds > 0:
                    continue
                seen = self._seen[path]
            if now - seen[2] >= self.settings.settle_seconds:
                ready.append(Arrival(path, full, seen[2], read_mark(path)))
        for gone in set(self._seen) - set(found):
            del self._seen[gone]
            self._waiting_logged.discard(gone)
        self.status.waiting = len(found)
        return sorted(ready, key=Arrival.order)

    async def scan(self) -> list[InboxOutcome]:
        """Take every complete file once, in order; return what became of them.

        A gap file still within its wait stays, and so do the files after it.
        Raises KafkaUnavailableError when Kafka fails (the file stays).
        """
        outcomes: list[InboxOutcome] = []
        for arrival in self.arrivals():
            outcome = await self.take(arrival)
            if outcome is None:
                break
            outcomes.append(outcome)
        return outcomes

    async def take(self, arrival: Arrival) -> InboxOutcome | None:
        """Ingest or reject one file; None when it is a gap still within its wait."""
        if arrival.mark is not None:
            decision = check_sequence(self._state.last_applied(), arrival.mark, full=arrival.full)
            if decision.verdict is Verdict.GAP:
                if self._clock() - arrival.ready_since < self.settings.gap_wait_seconds:
                    if arrival.path not in self._waiting_logged:
                        self._waiting_logged.add(arrival.path)
                        log.warning(
                            "inbox.waiting_for_missing_delta",
                            file=arrival.path.name,
                            wait_s=self.settings.gap_wait_seconds,
                        )
                    return None
                parked = self.settings.rejected / arrival.path.name
                hint = (
                    "; drop the missing delta and this file again, or publish it anyway "
                    f"with: cprbroker ingest --allow-gap {parked}"
                )
                return self._reject(arrival, Rejection.GAP, decision.message + hint)
            if decision.verdict is Verdict.OUT_OF_ORDER:
                return self._reject(arrival, Rejection.OUT_OF_ORDER, decision.message)
            if decision.verdict is Verdict.ALREADY_APPLIED:
                return self._reject(arrival, Rejection.REPEAT, decision.message)
        self.status.current = arrival.path.name
        self.status.current_persons = 0
        try:
            report = await ingest_file(
                arrival.path, state=self._state, sink=self._sink, full=arrival.full
            )
        finally:
            self.status.current = None
        return self._settle(arrival, report)

    def _settle(self, arrival: Arrival, report: FileReport) -> InboxOutcome:
        if report.outcome is Outcome.ALREADY_APPLIED:
            return self._reject(arrival, Rejection.REPEAT, report.message)
        if report.outcome is Outcome.REFUSED:
            unreadable = "cannot read it" in report.message
            kind = Rejection.UNREADABLE if unreadable else Rejection.FRAMING
            return self._reject(arrival, kind, report.message)
        self._seen.pop(arrival.path, None)
        moved = move_aside(arrival.path, self.settings.processed)
        outcome = InboxOutcome(
            arrival.path.name,
            arrival.full,
            published=True,
            message=report.message,
            persons=report.persons,
            refused_persons=report.rejected,
            moved_to=moved,
        )
        log.info(
            "inbox.file_processed",
            file=arrival.path.name,
            full=arrival.full,
            persons=report.persons,
            refused_persons=report.rejected,
        )
        self.status.finished(outcome)
        return outcome

    def _reject(self, arrival: Arrival, kind: Rejection, message: str) -> InboxOutcome:
        self._seen.pop(arrival.path, None)
        self._waiting_logged.discard(arrival.path)
        try:
            moved = move_aside(arrival.path, self.settings.rejected)
        except FileNotFoundError:
            moved = None  # taken away meanwhile: nothing to move, still say why
        where = moved if moved is not None else self.settings.rejected / arrival.path.name
        reason = where.with_name(where.name + REASON_SUFFIX)
        kind_text = "full extract" if arrival.full else "delta"
        reason.write_text(
            f"{kind.value}\n{arrival.path.name} ({kind_text}): {message}\n", encoding="utf-8"
        )
        log.warning("inbox.file_rejected", file=arrival.path.name, reason=kind.value)
        outcome = InboxOutcome(
            arrival.path.name, arrival.full, False, message, rejection=kind, moved_to=moved
        )
        self.status.finished(outcome)
        return outcome

    async def run(self, stop: asyncio.Event) -> None:
        """Scan every ``poll_seconds`` until ``stop`` is set. A file being
        ingested when ``stop`` is set is finished first (the caller may cancel
        instead: that file is then not recorded and is taken again next time)."""
        log.info("inbox.watching", inbox=str(self.settings.root))
        while not stop.is_set():
            pause = self.settings.poll_seconds
            self.status.progress_at = self._clock()
            try:
                await self.scan()
                self.status.error = None
            except KafkaUnavailableError as exc:
                self.status.error = str(exc)
                log.error(  # noqa: TRY400 - the message says it all; a traceback per retry is noise
                    "inbox.kafka_failed", error=str(exc), retry_s=self.settings.retry_seconds
                )
                pause = self.settings.retry_seconds
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=pause)
        log.info("inbox.stopped")


async def watch_inbox(
    settings: IngestSettings,
    inbox: InboxSettings,
    stop: asyncio.Event,
    *,
    status: InboxStatus | None = None,
) -> None:
    """Connect to Kafka and run an :class:`InboxWatcher` until ``stop`` is set.

    Raises KafkaUnavailableError when Kafka cannot be reached at start.
    """
    async with connected(settings) as (state, sink):
        watcher = InboxWatcher(inbox, state=state, sink=sink, status=status)
        watcher.status.connected = True
        try:
            await watcher.run(stop)
        finally:
            watcher.status.connected = False
