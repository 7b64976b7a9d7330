"""The figures the demo shows, gathered from where they are true: the inbox
watcher, Kafka (topic end offsets and the processor's committed offsets),
the delivery role's metrics and the receiver's tally."""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.demo.receiver import ReceiverTally
from cprbroker.ingest.inbox import InboxStatus
from cprbroker.run.host import RunningRoles


@dataclass(frozen=True, slots=True)
class Figures:
    """One refresh of the live view. Kafka figures are None when Kafka did not answer."""

    elapsed: float
    files_waiting: int
    files_processed: int
    files_rejected: int
    current_file: str | None
    persons_published: int
    person_messages: int | None
    person_messages_processed: int | None
    events: int | None
    events_expected: int
    fanout_events: int
    deliveries_written: int
    delivered: int
    retrying: int
    dead_lettered: int
    received: int
    refused: int
    duplicates: int
    last: tuple[str, ...]
    rejections: tuple[str, ...]


class KafkaOffsets:
    """Reads topic end offsets and a group's committed offsets, summed over partitions."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=None)
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
        self._partitions: dict[str, list[TopicPartition]] = {}

    async def start(self) -> None:
        """Connect (KafkaError when Kafka cannot be reached)."""
        await self._consumer.start()
        await self._admin.start()

    async def stop(self) -> None:
        """Disconnect."""
        await self._consumer.stop()
        await self._admin.close()

    async def _partitions_of(self, topic: str) -> list[TopicPartition]:
        if topic not in self._partitions:
            (description,) = await self._admin.describe_topics([topic])
            numbers = sorted(p["partition"] for p in description.get("partitions", ()))
            if description.get("error_code") != 0 or not numbers:
                return []
            self._partitions[topic] = [TopicPartition(topic, n) for n in numbers]
            # end_offsets asks the leaders of assigned partitions only; paused,
            # they are never fetched from.
            assigned = [tp for tps in self._partitions.values() for tp in tps]
            self._consumer.assign(assigned)
            self._consumer.pause(*assigned)
        return self._partitions[topic]

    async def end(self, topic: str) -> int | None:
        """Messages ever written to ``topic`` (None if it is unknown yet or Kafka failed)."""
        try:
            partitions = await self._partitions_of(topic)
            if not partitions:
                return None
            ends = await self._consumer.end_offsets(partitions)
        except KafkaError:
            return None
        return int(sum(ends.values()))

    async def committed(self, group: str, topic: str) -> int | None:
        """Messages of ``topic`` whose offsets ``group`` committed (None if Kafka failed)."""
        try:
            offsets = await self._admin.list_consumer_group_offsets(group)
        except KafkaError:
            return None
        return int(sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0))


async def gather(
    roles: RunningRoles,
    offsets: KafkaOffsets,
    tally: ReceiverTally,
    *,
    started: float,
    events_expected: int,
) -> Figures:
    """The figures right now."""
    settings = roles.settings
    topics = settings.ingest.topics
    inbox: InboxStatus = roles.inbox
    metrics = roles.delivery.metrics
    rejections = tuple(
        f"{o.name}: {o.rejection.value if o.rejection else '?'}"
        for o in inbox.recent
        if not o.published
    )
    return Figures(
        elapsed=time.monotonic() - started,
        files_waiting=inbox.waiting,
        files_processed=inbox.processed,
        files_rejected=inbox.rejected,
        current_file=inbox.current,
        persons_published=inbox.persons_published,
        person_messages=await offsets.end(topics.person_records),
        person_messages_processed=await offsets.committed(
            settings.processor.app_id, topics.person_records
        ),
        events=await offsets.end(topics.events),
        events_expected=events_expected,
        fanout_events=_sample(metrics, "cprbroker_fanout_events_total"),
        deliveries_written=_sample(metrics, "cprbroker_fanout_deliveries_total"),
        delivered=_sample(metrics, "cprbroker_deliveries_total", outcome="delivered"),
        retrying=_sample(metrics, "cprbroker_deliveries_total", outcome="retry_scheduled"),
        dead_lettered=_sample(metrics, "cprbroker_deliveries_total", outcome="dead_lettered"),
        received=tally.unique,
        refused=tally.refused,
        duplicates=tally.duplicates,
        last=tuple(d.line() for d in reversed(tally.last)),
        rejections=rejections[-3:],
    )


def _sample(metrics: DeliveryMetrics, name: str, **labels: str) -> int:
    value = metrics.registry.get_sample_value(name, labels)
    return int(value or 0)
