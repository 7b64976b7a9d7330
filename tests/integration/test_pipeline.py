"""The pipeline on a real Kafka: ``cprbroker ingest`` and ``cprbroker processor``
(subprocesses, as an operator runs them), read back by a plain aiokafka
consumer that decodes ``cpr.events`` with nothing but the ``schemas/`` .avsc
files and fastavro (not the project's codec).

- Several days of synthetic data give exactly the generator's ground truth.
- Re-ingesting a file adds nothing: refused as a repeat; and with the ingest
  state reset (the file is published again), the processor adds no event.
- The cpr-domain.md section 8 examples give the events named there.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import fastavro
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form

from cprbroker.adapters.local_kafka_process import kill_when_parent_dies, tail_file
from cprbroker.core.topics import TopicNames

PROJECT_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "cpr"
WAIT_S = 240.0
PARTITIONS = 3


def event_schema() -> Any:
    """The BusinessEvent schema, its named types resolved from the files beside it."""
    return load_schema(str(PROJECT_ROOT / "schemas" / "dk.cprbroker.v1.BusinessEvent.avsc"))


@dataclass
class Pipeline:
    """Topic names, app id and environment of one test's pipeline."""

    bootstrap: str
    suffix: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    @property
    def topics(self) -> TopicNames:
        return TopicNames(
            person_records=f"test.{self.suffix}.person-records",
            person_records_dlq=f"test.{self.suffix}.person-records.dlq",
            events=f"test.{self.suffix}.events",
            ingest_state=f"test.{self.suffix}.ingest-state",
        )

    @property
    def known_topic(self) -> str:
        return f"test.{self.suffix}.known-pnrs"

    @property
    def app_id(self) -> str:
        return f"test-processor-{self.suffix}"

    @property
    def env(self) -> dict[str, str]:
        topics = self.topics
        return {
            "KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "CPRBROKER_PARTITIONS": str(PARTITIONS),
            "CPRBROKER_TOPIC_PERSON_RECORDS": topics.person_records,
            "CPRBROKER_TOPIC_PERSON_RECORDS_DLQ": topics.person_records_dlq,
            "CPRBROKER_TOPIC_EVENTS": topics.events,
            "CPRBROKER_TOPIC_INGEST_STATE": topics.ingest_state,
            "CPRBROKER_KNOWN_PNRS_TOPIC": self.known_topic,
            "CPRBROKER_PROCESSOR_APP_ID": self.app_id,
            "CPRBROKER_PROCESSOR_COMMIT_INTERVAL": "0.5",
        }

    def cli(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run ``cprbroker ARGS`` to completion."""
        return subprocess.run(
            [sys.executable, "-m", "cprbroker.cli", *map(str, args)],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=WAIT_S,
            check=False,
        )

    def ingest(self, *args: str | Path) -> subprocess.CompletedProcess[str]:
        """Run ``cprbroker ingest ARGS`` and insist it succeeded."""
        result = self.cli("ingest", *args)
        assert result.returncode == 0, result.stderr
        return result

    def start_processor(self, data_dir: Path) -> ProcessorProcess:
        """Start ``cprbroker processor --data-dir DATA_DIR``."""
        return ProcessorProcess.start(self.env, data_dir)


@dataclass
class ProcessorProcess:
    """One ``cprbroker processor`` subprocess and its log file."""

    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, env: dict[str, str], data_dir: Path) -> ProcessorProcess:
        data_dir.mkdir(parents=True, exist_ok=True)
        log = data_dir.parent / f"{data_dir.name}-{time.monotonic_ns()}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "cprbroker.cli", "processor"),
                    *("--data-dir", str(data_dir), "--log-level", "DEBUG"),
                    *("--health-port", "0"),
                ],
                cwd=PROJECT_ROOT,
                env={**os.environ, **env},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=kill_when_parent_dies,  # noqa: PLW1509  (no processor outlives the test)
            )
        return cls(process=process, log=log)

    def check_alive(self) -> None:
        code = self.process.poll()
        assert code is None, f"processor exited with {code}:\n{tail_file(self.log, 80)}"

    def tail(self) -> str:
        return tail_file(self.log, 80)

    async def stop(self, how: signal.Signals = signal.SIGTERM) -> int:
        """Send ``how`` and wait for the exit status (SIGKILL after 60 s)."""
        if self.process.poll() is None:
            self.process.send_signal(how)
        try:
            return await asyncio.to_thread(self.process.wait, 60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            await asyncio.to_thread(self.process.wait, 10)
            pytest.fail(f"processor ignored {how.name} for 60 s:\n{self.tail()}")


@dataclass
class ReadEvent:
    """One record of the events topic, decoded with fastavro alone."""

    key: bytes
    headers: dict[str, bytes]
    event: dict[str, Any]

    @property
    def facts(self) -> tuple[Any, ...]:
        """What the generator's ground truth says about an event."""
        e = self.event
        return (
            e["pnr"],
            e["type"],
            e["cpr_event_code"],
            e["derived_mark"],
            e["municipality_before"],
            e["municipality_after"],
        )


class EventReader:
    """A plain consumer of the events topic (no consumer group)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.schema = event_schema()
        canonical = to_parsing_canonical_form(self.schema)
        self.header = b"\xc3\x01" + bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))
        self.consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            # The processor creates the topic: notice it soon after.
            metadata_max_age_ms=1000,
        )
        self.events: list[ReadEvent] = []

    async def __aenter__(self) -> EventReader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()

    def decode(self, key: bytes, value: bytes, headers: dict[str, bytes]) -> ReadEvent:
        assert value[:10] == self.header, "not single-object Avro of this BusinessEvent schema"
        body = io.BytesIO(value[10:])
        record = fastavro.schemaless_reader(body, self.schema, self.schema)
        assert isinstance(record, dict)
        assert body.read() == b""
        return ReadEvent(key, headers, record)

    async def poll(self, timeout_ms: int = 500) -> int:
        """Read what is there; returns how many events arrived."""
        batches = await self.consumer.getmany(timeout_ms=timeout_ms)
        count = 0
        for records in batches.values():
            for r in records:
                headers = {name: bytes(value) for name, value in r.headers}
                self.events.append(self.decode(r.key, r.value, headers))
                count += 1
        return count

    async def read_until(
        self, count: int, processor: ProcessorProcess, expected: list[Any] | None = None
    ) -> None:
        """Read until at least ``count`` events have arrived."""
        deadline = time.monotonic() + WAIT_S
        while len(self.events) < count:
            processor.check_alive()
            if time.monotonic() > deadline:
                missing = Counter(expected or ()) - Counter(e.facts for e in self.events)
                pytest.fail(
                    f"{len(self.events)} of {count} events after {WAIT_S:.0f} s; "
                    f"missing {sorted(missing.elements())}:\n{processor.tail()}"
                )
            await self.poll()

    async def settle(self, seconds: float = 3.0) -> None:
        """Read for ``seconds`` more (nothing further is expected)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.poll(timeout_ms=300)


async def wait_consumed(pipeline: Pipeline, processor: ProcessorProcess) -> None:
    """Wait until the processor committed every message of the records topic."""
    topic = pipeline.topics.person_records
    admin = AIOKafkaAdminClient(bootstrap_servers=pipeline.bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=pipeline.bootstrap)
    await admin.start()
    await probe.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        end = await probe.end_offsets(partitions)
        deadline = time.monotonic() + WAIT_S
        while True:
            processor.check_alive()
            offsets = await admin.list_consumer_group_offsets(pipeline.app_id)
            committed = {tp: offsets[tp].offset for tp in partitions if tp in offsets}
            if all(committed.get(tp, -1) >= end[tp] for tp in partitions):
                return
            assert time.monotonic() < deadline, f"committed {committed}, end {end}"
            await asyncio.sleep(0.5)
    finally:
        await probe.stop()
        await admin.close()


async def read_compacted(bootstrap: str, topic: str) -> dict[bytes, bytes | None]:
    """The latest value per key of ``topic``."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        end = await consumer.end_offsets(partitions)
        values: dict[bytes, bytes | None] = {}
        deadline = time.monotonic() + 60
        while [tp for tp in partitions if await consumer.position(tp) < end[tp]]:
            assert time.monotonic() < deadline
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for r in records:
                    values[r.key] = r.value
        return values
    finally:
        await consumer.stop()


def synthesize(out: Path, *, persons: int, days: int, seed: int) -> tuple[Path, list[Path]]:
    """``cprbroker synth``: the full extract and the deltas, in order."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "cprbroker.cli", "synth", "--quiet"),
            *("--persons", str(persons), "--days", str(days), "--seed", str(seed)),
            *("--out", str(out)),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    files = sorted(p for p in out.iterdir() if p.suffix != ".jsonl")
    return files[0], files[1:]


def truth(delta: Path) -> list[tuple[Any, ...]]:
    """The generator's ground truth for ``delta``."""
    lines = delta.with_name(delta.name + ".truth.jsonl").read_text().splitlines()
    keys = ("pnr", "type", "cpr_event_code", "derived_mark")
    keys += ("municipality_before", "municipality_after")
    return [tuple(json.loads(line)[k] for k in keys) for line in lines if line.strip()]


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_synthetic_days_match_ground_truth_and_a_repeat_adds_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    full, deltas = synthesize(tmp_path / "synth", persons=1500, days=4, seed=11)
    expected = [fact for delta in deltas for fact in truth(delta)]
    assert expected, "the generator made no changes"
    pipeline = Pipeline(kafka_bootstrap)

    loaded = pipeline.ingest("--full", full)
    assert "1500 persons" in loaded.stderr
    for delta in deltas:
        pipeline.ingest(delta)
    repeat = pipeline.ingest(deltas[-1])
    assert "already applied" in repeat.stderr
    gap = pipeline.cli("ingest", deltas[0])
    assert gap.returncode == 2
    assert "older than the last applied PRODDTO" in gap.stderr

    processor = pipeline.start_processor(tmp_path / "processor")
    try:
        async with EventReader(kafka_bootstrap, pipeline.topics.events) as reader:
            await reader.read_until(len(expected), processor, expected)
            await wait_consumed(pipeline, processor)
            await reader.settle()
            assert Counter(e.facts for e in reader.events) == Counter(expected)
            for read in reader.events:
                headers, event = read.headers, read.event
                assert read.key == event["pnr"].encode()
                assert headers["ce_specversion"] == b"1.0"
                assert headers["ce_id"].decode() == event["id"]
                assert headers["ce_type"].decode() == event["type"]
                assert headers["ce_subject"] == read.key
                assert headers["content-type"] == b"application/avro"
                assert headers["ce_source"]
                assert headers["ce_time"][:4].isdigit()
            ids = [e.event["id"] for e in reader.events]
            assert len(set(ids)) == len(ids)

            # State reset: ingest publishes the first delta again, the processor
            # recognises every person's file and adds nothing.
            again = pipeline.ingest("--reset-state", deltas[0])
            assert "published" in again.stderr
            await wait_consumed(pipeline, processor)
            await reader.settle()
            assert len(reader.events) == len(expected)

            # Consuming, so alive and ready for a Kubernetes probe.
            health = re.search(r"processor\.health\s+url=(\S+)", processor.log.read_text())
            assert health, processor.tail()
            async with aiohttp.ClientSession() as http:
                for path in ("/healthz", "/readyz"):
                    async with http.get(health.group(1) + path) as response:
                        assert response.status == 200, path

        known = await read_compacted(kafka_bootstrap, pipeline.known_topic)
        assert json.loads(known[b"!full-load"] or b"{}") == {"complete": True}
        assert sum(1 for key in known if key.isdigit()) >= 1500
    finally:
        status = await processor.stop(signal.SIGTERM)
    assert status == 0, processor.tail()


def framed(fragment: bytes, *, produced: str, previous: str, task: str = "907001") -> bytes:
    """``fragment`` (records without 000/999) as a whole extract file."""
    lines = [line for line in fragment.split(b"\n") if line.strip()]
    start = b"000" + b"0" * 10 + task.encode() + produced.encode() + previous.encode()
    end = b"999" + b"9" * 10 + f"{len(lines):08d}".encode()
    return b"\n".join([start, *lines, end]) + b"\n"


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_domain_examples_give_the_events_named_there(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    example_a = FIXTURES / "example-a-move-and-protection.txt"
    example_b = tmp_path / "example-b.txt"
    fragment = (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes()
    example_b.write_bytes(framed(fragment, produced="20240306", previous="20240305"))
    pipeline = Pipeline(kafka_bootstrap)
    pipeline.ingest(example_a)
    pipeline.ingest(example_b)

    processor = pipeline.start_processor(tmp_path / "processor")
    try:
        async with EventReader(kafka_bootstrap, pipeline.topics.events) as reader:
            await reader.read_until(5, processor)
            await wait_consumed(pipeline, processor)
            await reader.settle()
    finally:
        status = await processor.stop(signal.SIGTERM)
    assert status == 0, processor.tail()

    by_type = {
        (e.event["pnr"], e.event["type"], e.event["cpr_event_code"]): e.event for e in reader.events
    }
    moved = by_type["0701614011", "cpr.person.moved", "A01"]
    assert moved["cpr_event_code"] == "A01"
    assert (moved["municipality_before"], moved["municipality_after"]) == ("0851", "0101")
    protected = by_type["0707614226", "cpr.person.protection_changed", "A33"]
    assert [(p["type"], p["start"], p["end"]) for p in protected["snapshot"]["protections"]] == [
        ("0001", "2024-03-04", "2025-03-04")
    ]
    died = by_type["0708614327", "cpr.person.died", "A21"]
    assert died["derived_mark"] is None
    widowed = by_type["0707614226", "cpr.person.civil_status_changed", "A21"]
    assert widowed["derived_mark"] == "ÆG"
    assert widowed["snapshot"]["civil_status"]["code"] == "E"
