"""The processor runs inside another asyncio program (as ``cprbroker run``
will host it): started, ready, deriving, and stopped without its own worker;
messages it cannot read go to the dead-letter topic and the rest goes on."""

from __future__ import annotations

import asyncio
import io
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from tests.integration.test_pipeline import FIXTURES, PARTITIONS, EventReader, Pipeline

from cprbroker.ingest.run import run_ingest
from cprbroker.ingest.settings import IngestSettings
from cprbroker.processor.runner import start_processor
from cprbroker.processor.settings import ProcessorSettings


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_the_processor_runs_in_this_event_loop(kafka_bootstrap: str, tmp_path: Path) -> None:
    pipeline = Pipeline(kafka_bootstrap)
    ingest = IngestSettings(
        bootstrap_servers=kafka_bootstrap, topics=pipeline.topics, partitions=PARTITIONS
    )
    err = io.StringIO()
    # Before the file: a message without a key and one that is not a person
    # message at all (as a foreign writer might leave on the topic).
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(pipeline.topics.person_records, b"garbage", key=None)
        await producer.send_and_wait(pipeline.topics.person_records, b"{}", key=b"0101011234")
    finally:
        await producer.stop()
    status = await run_ingest(ingest, [FIXTURES / "example-a-move-and-protection.txt"], err=err)
    assert status == 0, err.getvalue()

    settings = replace(
        ProcessorSettings(),
        bootstrap_servers=kafka_bootstrap,
        topics=pipeline.topics,
        known_pnrs_topic=pipeline.known_topic,
        app_id=pipeline.app_id,
        data_dir=tmp_path / "processor",
        partitions=PARTITIONS,
    )
    runner = await start_processor(settings)
    try:
        await runner.wait_ready(timeout=240)
        async with EventReader(kafka_bootstrap, pipeline.topics.events) as reader:
            async with asyncio.timeout(240):
                while len(reader.events) < 3:
                    assert runner.crashed is None
                    await reader.poll()
    finally:
        await runner.stop()
    assert runner.crashed is None
    assert sorted(e.event["type"] for e in reader.events) == [
        "cpr.person.moved",
        "cpr.person.municipality_changed",
        "cpr.person.protection_changed",
    ]
    dead = await _read(kafka_bootstrap, pipeline.topics.person_records_dlq, 2)
    assert sorted(value for _, value, _ in dead) == [b"garbage", b"{}"]
    for _, _, headers in dead:
        assert headers["cpr_stage"] == b"processor"
        assert headers["cpr_error_type"] == b"EventFormatError"


async def _read(
    bootstrap: str, topic: str, count: int
) -> list[tuple[bytes | None, bytes | None, dict[str, bytes]]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[tuple[bytes | None, bytes | None, dict[str, bytes]]] = []
    try:
        async with asyncio.timeout(60):
            while len(found) < count:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found.extend((r.key, r.value, dict(r.headers)) for r in records)
    finally:
        await consumer.stop()
    return found
