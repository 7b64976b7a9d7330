"""A record fetched from ``cpr.deliveries`` or a retry tier, decoded once, and
its routing to the courier.

A record that is not a delivery at all cannot be sent anywhere; it goes to the
dead-letter topic unchanged, with the reason in a header, so nothing fetched
is ever silently skipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from aiokafka import ConsumerRecord

from cprbroker.adapters.delivery_outbox import RecordSink
from cprbroker.adapters.delivery_records import DeliveryRecord, decode_delivery
from cprbroker.core.errors import EventFormatError
from cprbroker.delivery.courier import Courier

log = structlog.get_logger(__name__)

ERROR_HEADER = "cprbroker-error"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One fetched record: its topic, key, raw value and the decoded delivery
    (None, with ``error``, when it does not decode)."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes
    delivery: DeliveryRecord | None
    error: str | None = None

    @classmethod
    def of(cls, record: ConsumerRecord[bytes, bytes]) -> Incoming:
        """Decode ``record``; never raises."""
        key = record.key or b""
        value = record.value or b""
        try:
            delivery = decode_delivery(value)
        except EventFormatError as exc:
            return cls(record.topic, record.partition, record.offset, key, value, None, str(exc))
        return cls(record.topic, record.partition, record.offset, key, value, delivery)

    def due(self) -> float:
        """When the delivery may be attempted (epoch seconds; 0 = now)."""
        return self.delivery.due_at if self.delivery is not None else 0.0


class IncomingHandler:
    """Hands decoded deliveries to the courier, naming the stage after the topic."""

    def __init__(
        self, courier: Courier, sink: RecordSink, deliveries_topic: str, dlq_topic: str
    ) -> None:
        self._courier = courier
        self._sink = sink
        self._deliveries_topic = deliveries_topic
        self._dlq_topic = dlq_topic
        self._retry_prefix = deliveries_topic + "."

    async def handle(self, incoming: Incoming) -> None:
        """Deliver, or dead-letter a record that is not a delivery."""
        if incoming.delivery is None:
            log.error(
                "delivery.malformed_record",
                topic=incoming.topic,
                partition=incoming.partition,
                offset=incoming.offset,
                error=incoming.error,
            )
            reason = (incoming.error or "malformed").encode("utf-8")
            await self._sink.send_and_wait(
                self._dlq_topic, incoming.key, incoming.value, [(ERROR_HEADER, reason)]
            )
            return
        first = incoming.topic == self._deliveries_topic
        stage = "send" if first else incoming.topic.removeprefix(self._retry_prefix)
        await self._courier.deliver(incoming.delivery, stage=stage, short_retries=first)
