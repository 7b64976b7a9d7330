"""The record batcher on a real Kafka: records land where ``send`` would put
them, in the order given, split over as many batches as the size allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from cprbroker.adapters.record_batches import OutgoingRecord, RecordBatcher, partition_for

if TYPE_CHECKING:
    from tests.conftest import TopicFactory

pytestmark = pytest.mark.integration


async def _read_all(bootstrap: str, topic: str, expected: int) -> list[tuple[int, bytes, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    seen: list[tuple[int, bytes, bytes]] = []
    try:
        while len(seen) < expected:
            batches = await consumer.getmany(timeout_ms=5000)
            if not batches:
                break
            for records in batches.values():
                seen.extend((r.partition, r.key or b"", r.value or b"") for r in records)
    finally:
        await consumer.stop()
    return seen


async def test_batches_land_where_send_would_put_them(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    sent_topic = await new_topic("send", partitions=6)
    batched_topic = await new_topic("batched", partitions=6)
    keys = [f"{n:010d}".encode() for n in range(600)]
    # A small batch size forces several batches per partition.
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, max_batch_size=2048)
    await producer.start()
    try:
        for n, key in enumerate(keys):
            await producer.send(sent_topic, b"v%d" % n, key=key)
        await producer.flush()
        offsets = await RecordBatcher(producer).produce(
            OutgoingRecord(batched_topic, key, b"v%d" % n, [("h", b"1")])
            for n, key in enumerate(keys)
        )
    finally:
        await producer.stop()
    by_send = {
        key: partition for partition, key, _ in await _read_all(kafka_bootstrap, sent_topic, 600)
    }
    batched = await _read_all(kafka_bootstrap, batched_topic, 600)
    assert len(batched) == 600
    assert {key: partition for partition, key, _ in batched} == by_send
    assert all(partition_for(key, 6) == by_send[key] for key in keys)
    # Within a partition, the order given.
    for partition in range(6):
        values = [int(value[1:]) for p, _, value in batched if p == partition]
        assert values == sorted(values)
        assert offsets[TopicPartition(batched_topic, partition)] == len(values) - 1


async def test_explicit_partitions_are_kept(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic("explicit", partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        offsets = await RecordBatcher(producer).produce(
            OutgoingRecord(topic, b"k%d" % n, b"v", partition=2) for n in range(5)
        )
    finally:
        await producer.stop()
    assert offsets == {TopicPartition(topic, 2): 4}
    assert {partition for partition, _, _ in await _read_all(kafka_bootstrap, topic, 5)} == {2}


async def test_a_record_without_key_or_partition_goes_to_partition_zero(
    kafka_bootstrap: str, new_topic: TopicFactory
) -> None:
    topic = await new_topic("keyless", partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        offsets = await RecordBatcher(producer).produce(
            [OutgoingRecord(topic, None, b"dead letter"), OutgoingRecord(topic, None, b"another")]
        )
    finally:
        await producer.stop()
    assert offsets == {TopicPartition(topic, 0): 1}
