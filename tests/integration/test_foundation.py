"""The foundation works on a real Kafka: aiokafka with Avro and committed offsets.

A consumer group that commits by hand must resume exactly at its committed
offsets after a restart: nothing committed is read again, nothing produced
while it was away is lost.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import fastavro
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

if TYPE_CHECKING:
    from tests.conftest import TopicFactory

# A synthetic record: the foundation test is about transport, not the CPR domain.
READING_SCHEMA = parse_schema(
    {
        "type": "record",
        "name": "Reading",
        "namespace": "dk.cprbroker.test",
        "fields": [
            {"name": "seq", "type": "long"},
            {"name": "label", "type": "string"},
            {"name": "note", "type": ["null", "string"], "default": None},
            {"name": "tags", "type": {"type": "array", "items": "string"}},
        ],
    }
)
_MARKER = b"\xc3\x01"
_FINGERPRINT = bytes.fromhex(fingerprint(to_parsing_canonical_form(READING_SCHEMA), "CRC-64-AVRO"))[
    ::-1
]  # the specification stores the 64-bit fingerprint little-endian


def encode(record: dict[str, object]) -> bytes:
    """Avro single-object encoding: marker, schema fingerprint, binary body."""
    body = io.BytesIO()
    fastavro.schemaless_writer(body, READING_SCHEMA, record)
    return _MARKER + _FINGERPRINT + body.getvalue()


def decode(data: bytes) -> dict[str, object]:
    assert data[:2] == _MARKER, data[:2]
    assert data[2:10] == _FINGERPRINT, "written with another schema"
    record = fastavro.schemaless_reader(io.BytesIO(data[10:]), READING_SCHEMA, READING_SCHEMA)
    assert isinstance(record, dict)
    return record


def reading(seq: int) -> dict[str, object]:
    return {
        "seq": seq,
        "label": f"reading-{seq}",
        "note": None if seq % 3 else f"note æøå {seq}",
        "tags": [f"t{n}" for n in range(seq % 4)],
    }


@dataclass(frozen=True, order=True)
class Seen:
    partition: int
    offset: int
    seq: int


def consumer(bootstrap: str, topic: str, group: str, *, reset: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset=reset,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
    )


async def consume(source: AIOKafkaConsumer, count: int, *, topic: str) -> list[Seen]:
    """Read exactly ``count`` records (failing after 30 s), then check nothing else comes."""
    seen: list[Seen] = []
    for _ in range(60):
        batches = await source.getmany(timeout_ms=500)
        for tp, messages in batches.items():
            assert tp.topic == topic
            for message in messages:
                value = decode(message.value)
                assert message.key == f"k{value['seq']}".encode()
                assert value == reading(int(str(value["seq"])))
                seen.append(Seen(tp.partition, message.offset, int(str(value["seq"]))))
        if len(seen) >= count:
            break
    assert len(seen) == count, f"expected {count} records, got {len(seen)}: {seen}"
    extra = await source.getmany(timeout_ms=1_000)
    assert not any(extra.values()), f"unexpected records: {extra}"
    return seen


async def test_consumer_group_resumes_exactly_at_committed_offsets(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("readings", partitions=2)
    group = f"foundation-{uuid.uuid4().hex[:8]}"
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, enable_idempotence=True, acks="all"
    )
    await producer.start()
    try:

        async def produce(seqs: range) -> None:
            for seq in seqs:
                await producer.send_and_wait(
                    topic, encode(reading(seq)), key=f"k{seq}".encode(), partition=seq % 2
                )

        await produce(range(10))  # offsets 0..4 in each partition

        first = consumer(kafka_bootstrap, topic, group, reset="earliest")
        await first.start()
        try:
            seen_first = await consume(first, 10, topic=topic)
            # Processed everything, but commit only the first three records of
            # each partition: a restart must replay offsets 3 and 4, no more.
            await first.commit({TopicPartition(topic, p): 3 for p in (0, 1)})
        finally:
            await first.stop()
        assert sorted(s.seq for s in seen_first) == list(range(10))

        await produce(range(10, 16))  # offsets 5..7 in each partition, while nobody reads

        # "none": with no committed offset the consumer must fail, never guess.
        second = consumer(kafka_bootstrap, topic, group, reset="none")
        await second.start()
        try:
            for p in (0, 1):
                assert await second.committed(TopicPartition(topic, p)) == 3
            seen_second = await consume(second, 10, topic=topic)
            await second.commit()
            for p in (0, 1):
                assert await second.committed(TopicPartition(topic, p)) == 8
        finally:
            await second.stop()
    finally:
        await producer.stop()

    for p in (0, 1):
        offsets = [s.offset for s in seen_second if s.partition == p]
        assert offsets == [3, 4, 5, 6, 7], f"partition {p} resumed at {offsets}"
    expected = {seq for seq in range(16) if seq // 2 >= 3}
    assert {s.seq for s in seen_second} == expected
