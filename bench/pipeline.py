"""Benchmark: CPR files to business events on Kafka, persons per second.

A synthetic population (``cprbroker synth``) is loaded as a full extract,
then its daily deltas follow, in two ways:

* one at a time (the first half of the deltas): the clock runs from the start
  of ingest (in this process, ``run_ingest``) until the processors have put
  the last event of the file on the events topic; the figure is the median
  over these deltas. A delta of a million-person register holds a few
  thousand persons, so this figure includes a fixed latency of a few tenths
  of a second (connecting, reading the ingest state, the processor's batch
  window, the producers' linger);
* back to back (the other half): all of them in one ingest run, as the inbox
  handles a backlog, from the start of ingest to the last event of the last
  file: the sustained rate.

For the initial load, which gives no events, the clock stops when the
processors published ``!full-load``. The processors are ``cprbroker
processor`` subprocesses in one consumer group (``--processors``, default 2:
one per core here), as they run in production.

Beside it, a baseline measured in the same run on the same broker: a bare
aiokafka producer sending as many pre-encoded messages as the deltas have
persons, each as large as an average event, batched the same way (linger,
acks=all); the median over three repetitions. The ratio is pipeline persons/s
over baseline messages/s.

And a floor for any faust processor: an agent of an app configured as the
processor's (same faust settings, same batches) that does nothing but take
the batches of as many pre-produced messages, each as large as an average
person message; messages/s from its first batch to its last. A processor
doing real work per person cannot pass it per process.

Needs a Kafka broker: ``--bootstrap-servers`` or ``KAFKA_BOOTSTRAP_SERVERS``
(``cprbroker kafka start`` prints one). Topics, consumer group and data dir
are fresh on every run; the synthetic files are kept in ``--work-dir`` and
reused when present. Every person is invented.

    python bench/pipeline.py              # 1,000,000 persons, 6 deltas
    python bench/pipeline.py --small      # 5,000 persons, 2 deltas (run by the tests)
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from cprbroker.adapters.kafka_admin import delete_topics, ensure_topics, topic_names
from cprbroker.adapters.known_persons import FULL_LOAD_KEY
from cprbroker.adapters.local_kafka_process import kill_when_parent_dies, tail_file
from cprbroker.core.topics import TopicNames, TopicSpec
from cprbroker.ingest.run import run_ingest
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.app import faust_app
from cprbroker.processor.settings import ProcessorSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PARTITIONS = 6
WAIT_S = 3600.0
BASELINE_RUNS = 3
FLOOR_MIN_MESSAGES = 2_000


@dataclass
class Delta:
    """One delta file and what it must give."""

    path: Path
    persons: int
    events: int


@dataclass
class Figures:
    """What one run measured."""

    persons: int
    processors: int
    load_s: float
    ingest_load_s: float
    deltas: list[tuple[Delta, float]] = field(default_factory=list)
    backlog: list[Delta] = field(default_factory=list)
    backlog_s: float = 0.0
    event_bytes: float = 0.0
    baseline_s: list[float] = field(default_factory=list)
    backlog_baseline_s: list[float] = field(default_factory=list)
    floor: float = 0.0
    floor_messages: int = 0


def synthesize(work_dir: Path, persons: int, days: int) -> tuple[Path, list[Delta]]:
    """The full extract and the deltas (made once per size, then reused)."""
    out = work_dir / f"synth-{persons}-{days}"
    if not (out / "done").exists():
        subprocess.run(
            [
                *(sys.executable, "-m", "cprbroker.cli", "synth", "--quiet"),
                *("--persons", str(persons), "--days", str(days), "--seed", "1"),
                *("--out", str(out)),
            ],
            check=True,
            timeout=WAIT_S,
        )
        (out / "done").write_text("")
    files = sorted(p for p in out.iterdir() if p.name.startswith("D") and p.suffix != ".jsonl")
    deltas = []
    for path in files[1:]:
        pnrs = {line[3:13] for line in path.read_bytes().split(b"\n") if line[:3] == b"001"}
        truth = path.with_name(path.name + ".truth.jsonl").read_text().splitlines()
        deltas.append(Delta(path, len(pnrs), sum(1 for line in truth if line.strip())))
    return files[0], deltas


class Processor:
    """``cprbroker processor`` as a subprocess with its own topics and group."""

    def __init__(self, env: dict[str, str], data_dir: Path) -> None:
        self.log = data_dir.with_suffix(".log")
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "cprbroker.cli", "processor"),
                    *("--data-dir", str(data_dir), "--health-port", "0"),
                ],
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=kill_when_parent_dies,  # noqa: PLW1509  (never outlives the bench)
            )

    def wait_ready(self) -> None:
        """Wait until the processor logs that it consumes."""
        deadline = time.monotonic() + WAIT_S
        while b"processor.ready" not in self.log.read_bytes():
            self.check()
            if time.monotonic() > deadline:
                raise TimeoutError("the processor did not become ready")
            time.sleep(0.2)

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"processor exited:\n{tail_file(self.log, 40)}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


class Watcher:
    """Counts events and watches for ``!full-load`` (plain consumers)."""

    def __init__(self, bootstrap: str, events: str, known: str) -> None:
        self.events = AIOKafkaConsumer(
            events, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        self.known = AIOKafkaConsumer(
            known, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        self.count = 0
        self.bytes = 0

    async def start(self) -> None:
        await self.events.start()
        await self.known.start()

    async def stop(self) -> None:
        await self.events.stop()
        await self.known.stop()

    async def until_events(self, total: int, group: list[Processor]) -> None:
        deadline = time.monotonic() + WAIT_S
        while self.count < total:
            for processor in group:
                processor.check()
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count} of {total} events")
            for records in (await self.events.getmany(timeout_ms=50)).values():
                self.count += len(records)
                self.bytes += sum(len(r.value) for r in records)

    async def until_full_load(self, group: list[Processor]) -> None:
        deadline = time.monotonic() + WAIT_S
        while True:
            for processor in group:
                processor.check()
            if time.monotonic() > deadline:
                raise TimeoutError("no !full-load")
            for records in (await self.known.getmany(timeout_ms=100, max_records=50_000)).values():
                if any(r.key == FULL_LOAD_KEY for r in records):
                    return


async def ingest(settings: IngestSettings, paths: list[Path], *, full: bool) -> None:
    """``run_ingest`` the files; raise if one was not published cleanly."""
    err = io.StringIO()
    if await run_ingest(settings, paths, full=full, err=err) != 0:
        raise RuntimeError(f"ingest failed: {err.getvalue()}")


async def drop_topics(bootstrap: str, *prefixes: str) -> None:
    """Delete the topics a measurement made (names starting with ``prefixes``;
    faust's own topics start with its app id), so runs do not pile up
    partitions on the broker."""
    names = [name for name in await topic_names(bootstrap) if name.startswith(prefixes)]
    await delete_topics(bootstrap, names)


async def baseline(bootstrap: str, count: int, size: int) -> float:
    """Seconds a bare producer takes for ``count`` messages of ``size`` bytes."""
    topic = f"bench.baseline.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, PARTITIONS, False, None)])
    value = os.urandom(size)
    keys = [f"{i:010d}".encode() for i in range(count)]
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = [await producer.send(topic, value, key=key) for key in keys]
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()
        await delete_topics(bootstrap, [topic])


async def faust_floor(bootstrap: str, count: int, size: int, work_dir: Path) -> float:
    """Messages/s of a do-nothing faust agent, configured as the processor,
    over ``count`` pre-produced messages of ``size`` bytes (from its first
    batch to its last)."""
    suffix = uuid.uuid4().hex[:8]
    topic = f"bench.floor.{suffix}"
    await ensure_topics(bootstrap, [TopicSpec(topic, PARTITIONS, False, None)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        value = os.urandom(size)
        futures = [
            await producer.send(topic, value, key=f"{i:010d}".encode()) for i in range(count)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    settings = ProcessorSettings(
        bootstrap_servers=bootstrap,
        app_id=f"bench-floor-{suffix}",
        store="memory",
        data_dir=work_dir / f"floor-{suffix}",
    )
    app = faust_app(settings)
    source = app.topic(
        topic, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
    )
    done = asyncio.Event()
    seen: list[tuple[float, int]] = []

    async def take(stream: Any) -> None:
        total = 0
        async for batch in stream.take_events(settings.batch_size, within=settings.batch_seconds):
            total += len(batch)
            seen.append((time.perf_counter(), total))
            if total >= count:
                done.set()

    app.agent(source, name="floor")(take)
    await app.start()
    try:
        await asyncio.wait_for(done.wait(), WAIT_S)
    finally:
        await app.stop()
        await drop_topics(bootstrap, topic, settings.app_id)
    (first_at, first_count), (last_at, last_count) = seen[0], seen[-1]
    return (last_count - first_count) / max(last_at - first_at, 1e-6)


async def measure(
    bootstrap: str, work_dir: Path, persons: int, days: int, processors: int
) -> Figures:
    full, deltas = synthesize(work_dir, persons, days)
    singles, backlog = deltas[: max(1, len(deltas) // 2)], deltas[max(1, len(deltas) // 2) :]
    suffix = uuid.uuid4().hex[:8]
    topics = TopicNames(
        person_records=f"bench.{suffix}.person-records",
        person_records_dlq=f"bench.{suffix}.person-records.dlq",
        events=f"bench.{suffix}.events",
        ingest_state=f"bench.{suffix}.ingest-state",
    )
    known = f"bench.{suffix}.known-pnrs"
    await ensure_topics(
        bootstrap,
        [
            TopicSpec(topics.person_records, PARTITIONS, False, None),
            TopicSpec(topics.person_records_dlq, PARTITIONS, False, None),
            TopicSpec(topics.events, PARTITIONS, False, None),
            TopicSpec(topics.ingest_state, 1, True, None),
            TopicSpec(known, PARTITIONS, True, None),
        ],
    )
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "CPRBROKER_TOPIC_PERSON_RECORDS": topics.person_records,
        "CPRBROKER_TOPIC_PERSON_RECORDS_DLQ": topics.person_records_dlq,
        "CPRBROKER_TOPIC_EVENTS": topics.events,
        "CPRBROKER_KNOWN_PNRS_TOPIC": known,
        "CPRBROKER_PROCESSOR_APP_ID": f"bench-processor-{suffix}",
    }
    settings = IngestSettings(bootstrap_servers=bootstrap, topics=topics, create_topics=False)
    group: list[Processor] = []
    watcher = Watcher(bootstrap, topics.events, known)
    await watcher.start()
    try:
        # One after the other: a processor is ready once its group settled.
        for n in range(processors):
            group.append(Processor(env, work_dir / f"processor-{suffix}-{n}"))
            await asyncio.to_thread(group[-1].wait_ready)
        started = time.perf_counter()
        await ingest(settings, [full], full=True)
        ingested = time.perf_counter()
        await watcher.until_full_load(group)
        figures = Figures(persons, processors, time.perf_counter() - started, ingested - started)
        expected = 0
        for delta in singles:
            expected += delta.events
            started = time.perf_counter()
            await ingest(settings, [delta.path], full=False)
            await watcher.until_events(expected, group)
            figures.deltas.append((delta, time.perf_counter() - started))
        if backlog:
            expected += sum(delta.events for delta in backlog)
            started = time.perf_counter()
            await ingest(settings, [delta.path for delta in backlog], full=False)
            await watcher.until_events(expected, group)
            figures.backlog, figures.backlog_s = backlog, time.perf_counter() - started
        figures.event_bytes = watcher.bytes / max(watcher.count, 1)
    finally:
        await watcher.stop()
        for processor in group:
            processor.stop()
        await drop_topics(bootstrap, f"bench.{suffix}.", env["CPRBROKER_PROCESSOR_APP_ID"])
    size = round(figures.event_bytes)
    count = int(statistics.median(d.persons for d in singles))
    backlog_count = sum(d.persons for d in backlog)
    for _ in range(BASELINE_RUNS):
        figures.baseline_s.append(await baseline(bootstrap, count, size))
        if backlog_count:
            figures.backlog_baseline_s.append(await baseline(bootstrap, backlog_count, size))
    # Person messages: every delta person's records as ingest writes them.
    message_bytes = round(
        sum(d.path.stat().st_size for d in deltas) / sum(d.persons for d in deltas)
    )
    figures.floor_messages = max(backlog_count, count, FLOOR_MIN_MESSAGES)
    figures.floor = await faust_floor(bootstrap, figures.floor_messages, message_bytes, work_dir)
    return figures


def report(figures: Figures) -> str:
    deltas = [d for d, _ in figures.deltas]
    rates = [d.persons / s for d, s in figures.deltas]
    median_persons = int(statistics.median(d.persons for d in deltas))
    base = statistics.median(median_persons / s for s in figures.baseline_s)
    pipeline = statistics.median(rates)
    lines = [
        f"input: {figures.persons:,} persons, {len(deltas) + len(figures.backlog)} deltas "
        f"({median_persons:,} persons per delta, median; events "
        f"{figures.event_bytes:,.0f} bytes on average); {figures.processors} processor(s)",
        f"initial load: {figures.persons / figures.load_s:,.0f} persons/s "
        f"({figures.load_s:.1f} s; ingest alone {figures.persons / figures.ingest_load_s:,.0f} "
        "persons/s)",
    ]
    lines.extend(
        f"delta {d.path.name}: {d.persons:,} persons, {d.events:,} events in {s:.2f} s: "
        f"{d.persons / s:,.0f} persons/s"
        for d, s in figures.deltas
    )
    lines += [
        f"deltas one at a time (median): {pipeline:,.0f} persons/s",
        f"baseline (aiokafka produce, {median_persons:,} messages of "
        f"{figures.event_bytes:,.0f} bytes, median): {base:,.0f} messages/s",
        f"ratio: {pipeline / base:.3f}",
    ]
    if figures.backlog:
        persons = sum(d.persons for d in figures.backlog)
        events = sum(d.events for d in figures.backlog)
        sustained = persons / figures.backlog_s
        backlog_base = statistics.median(persons / s for s in figures.backlog_baseline_s)
        lines += [
            f"deltas back to back ({len(figures.backlog)} files, {persons:,} persons, "
            f"{events:,} events in {figures.backlog_s:.2f} s): {sustained:,.0f} persons/s",
            f"baseline (aiokafka produce, {persons:,} messages, median): "
            f"{backlog_base:,.0f} messages/s",
            f"ratio: {sustained / backlog_base:.3f}",
        ]
    lines.append(
        f"faust floor (a do-nothing agent configured as the processor, "
        f"{figures.floor_messages:,} messages): {figures.floor:,.0f} messages/s per process"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--processors", type=int, default=2, help="processor processes")
    parser.add_argument("--small", action="store_true", help="5,000 persons, 2 deltas")
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--work-dir", type=Path, help="keep synthetic files here")
    args = parser.parse_args(argv)
    if not args.bootstrap_servers:
        print("give --bootstrap-servers or set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    persons, days = (5_000, 2) if args.small else (args.persons, args.days)
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        work_dir.mkdir(parents=True, exist_ok=True)
        figures = asyncio.run(
            measure(args.bootstrap_servers, work_dir, persons, days, args.processors)
        )
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
