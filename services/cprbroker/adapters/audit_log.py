"""The audit trail on Kafka: appending entries to ``cpr.audit`` and reading them back.

Records are keyed by the acting client (the architecture's "actor"), so one
client's entries stay in order. An entry naming more CPR numbers than fit in
one record is split (see :meth:`AuditEntry.split`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Protocol

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from cprbroker.adapters.state_store import topic_partitions
from cprbroker.core.audit import AuditEntry, AuditQuery
from cprbroker.core.errors import KafkaUnavailableError

log = structlog.get_logger(__name__)


class AuditTrail(Protocol):
    """Where audit entries go."""

    async def append(self, entry: AuditEntry) -> None:
        """Store ``entry`` durably; raise KafkaUnavailableError if that fails."""
        ...


class InMemoryAuditTrail:
    """The fake for service tests: entries in a list."""

    def __init__(self) -> None:
        self.entries: list[AuditEntry] = []

    async def append(self, entry: AuditEntry) -> None:
        """Keep ``entry`` (split as it would be on Kafka)."""
        self.entries.extend(entry.split())


class KafkaAuditTrail:
    """Appends audit entries to the audit topic and waits for the broker's ack."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self._producer = producer
        self._topic = topic

    async def append(self, entry: AuditEntry) -> None:
        """Produce ``entry`` (in parts if large); return once every part is stored."""
        try:
            futures = [
                await self._producer.send(
                    self._topic, key=part.client.encode("utf-8"), value=part.to_json()
                )
                for part in entry.split()
            ]
            for future in futures:
                await future
        except KafkaError as exc:
            raise KafkaUnavailableError(f"audit write to {self._topic} failed: {exc}") from exc


async def read_audit(
    bootstrap_servers: str, topic: str, query: AuditQuery
) -> AsyncIterator[AuditEntry]:
    """Every entry on ``topic`` that ``query`` matches, up to the end as of the call.

    With ``query.since`` the read starts at the first offset at or after that
    time in each partition (entries are produced right after the call, so the
    record time is the entry time within moments). Entries come partition by
    partition, in order within a client.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        group_id=None,
    )
    assigned = await topic_partitions(bootstrap_servers, topic)
    try:
        await consumer.start()
        consumer.assign(assigned)
        end = await consumer.end_offsets(assigned)
        await _seek_start(consumer, assigned, query.since)
        remaining = {tp for tp in assigned if await consumer.position(tp) < end[tp]}
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=1000)
            for tp, records in batches.items():
                for record in records:
                    if record.offset >= end[tp] or record.value is None:
                        continue
                    entry = _decode(record.value)
                    if entry is not None and query.matches(entry):
                        yield entry
            for tp in list(remaining):
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    except KafkaError as exc:
        raise KafkaUnavailableError(f"cannot read {topic}: {exc}") from exc
    finally:
        await consumer.stop()


async def _seek_start(
    consumer: AIOKafkaConsumer, assigned: list[TopicPartition], since: datetime | None
) -> None:
    if since is None:
        await consumer.seek_to_beginning(*assigned)
        return
    stamp = int(since.timestamp() * 1000)
    found = await consumer.offsets_for_times(dict.fromkeys(assigned, stamp))
    for tp in assigned:
        offset = found.get(tp)
        if offset is None:
            await consumer.seek_to_end(tp)
        else:
            consumer.seek(tp, offset.offset)


def _decode(raw: bytes) -> AuditEntry | None:
    try:
        return AuditEntry.from_json(raw)
    except (ValueError, KeyError, TypeError):
        log.warning("audit.bad_record")
        return None
