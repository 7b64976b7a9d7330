"""Fan-out: every event on ``cpr.events`` is matched against the subscriptions
and delivered at once to each matching one, by the courier.

The events are consumed by a :class:`~cprbroker.delivery.stage.ConcurrentStage`
(consumer group ``<group>.fanout``), so events, and the deliveries of one
event, are worked on concurrently. A fresh delivery's first attempt is made
from here, without a round trip through ``cpr.deliveries``: that topic
carries the deliveries asked for through the API and dead letters redriven.
What fails goes on as before: to a retry tier or the dead-letter topic.

Commit order: an event counts as finished once every delivery of it is
concluded: delivered (2xx), dropped, or its next home (a retry tier, the
dead-letter topic) acknowledged by Kafka. The stage flushes the attempt log,
then commits each events partition up to its lowest unfinished event. A crash
re-runs the unfinished events' deliveries; the duplicates carry the same
``webhook-id``.
"""

from __future__ import annotations

import asyncio

import structlog
from aiokafka import ConsumerRecord

from cprbroker.adapters.avro_codec import EventCodec
from cprbroker.adapters.delivery_codec import EventReader
from cprbroker.adapters.delivery_matching import event_document, event_facts
from cprbroker.adapters.delivery_records import DeliveryRecord, EventRef
from cprbroker.adapters.metrics import DeliveryMetrics
from cprbroker.core.errors import EventFormatError, InfrastructureError
from cprbroker.delivery.courier import Courier
from cprbroker.delivery.view import SubscriptionView

log = structlog.get_logger(__name__)

STAGE = "send"
"""The stage a first attempt is logged under (as when it came from ``cpr.deliveries``)."""
_RETRY_PAUSE = 1.0


class FanOut:
    """Matches each event and hands one delivery per recipient to the courier.

    :meth:`handle` is the events stage's handler: it returns once every
    delivery of the event is concluded (see the module docstring).
    """

    def __init__(
        self,
        view: SubscriptionView,
        courier: Courier,
        *,
        codec: EventCodec,
        metrics: DeliveryMetrics,
    ) -> None:
        self._view = view
        self._courier = courier
        self._reader = EventReader(codec)
        self._metrics = metrics
        self._events = metrics.fanout_events
        self._deliveries = metrics.fanout_deliveries
        self._in_flight = 0
        # Read when scraped: no metric update per delivery for it.
        metrics.in_flight.labels("fanout").set_function(lambda: self._in_flight)

    async def handle(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Deliver the event in ``record`` to every subscription it matches."""
        self._events.inc()
        if record.value is None:
            return
        try:
            document = event_document(self._reader, record.value)
        except EventFormatError as exc:
            # Not deliverable by anyone; the processor wrote it and must be fixed.
            # The decoder's message may quote field values, so it stays out of the log.
            log.error(  # noqa: TRY400 - a traceback would not help either
                "delivery.bad_event",
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                error=type(exc).__name__,
            )
            return
        recipients = self._view.recipients(event_facts(document))
        if not recipients:
            return
        ref = EventRef(record.topic, record.partition, record.offset, record.timestamp)
        self._deliveries.inc(len(recipients))
        if len(recipients) == 1:
            await self._deliver(DeliveryRecord(recipients[0].id, document, ref))
            return
        await asyncio.gather(
            *(self._deliver(DeliveryRecord(s.id, document, ref)) for s in recipients)
        )

    async def _deliver(self, delivery: DeliveryRecord) -> None:
        """One delivery to its conclusion; while Kafka is away, try it again
        after a pause (this delivery only, not its event's others)."""
        self._in_flight += 1
        try:
            while True:
                try:
                    await self._courier.deliver(delivery, stage=STAGE, short_retries=True)
                except InfrastructureError as exc:
                    log.warning(
                        "delivery.fanout_retry",
                        subscription_id=delivery.subscription_id,
                        event_partition=delivery.event_ref.partition,
                        event_offset=delivery.event_ref.offset,
                        error=str(exc),
                    )
                    await asyncio.sleep(_RETRY_PAUSE)
                else:
                    return
        finally:
            self._in_flight -= 1
