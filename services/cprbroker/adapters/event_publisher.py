"""Business events as Kafka records on ``cpr.events``.

The key is the person's PNR (per-person order holds). The value is the event
in Avro single-object encoding (:mod:`cprbroker.adapters.avro_codec`). The
CloudEvents attributes travel as headers in the CloudEvents Kafka protocol
binding's binary mode:

- ``ce_specversion`` ``1.0``; ``ce_id`` the event id (deterministic: the same
  file gives the same ids, so consumers deduplicate on it);
- ``ce_source`` (configurable, default ``urn:cprbroker:events``, the source
  the webhooks use); ``ce_type`` the business event type;
- ``ce_subject`` the person's PNR;
- ``ce_time`` when it happened (099 TIMESTAMPU read as Danish time), else the
  start of the file's production date in Danish time;
- ``content-type`` ``application/avro``, and ``ce_dataschema`` naming the
  writer schema by its fingerprint (``urn:avro:crc64:<hex>``).
"""

from __future__ import annotations

import datetime as dt

from cprbroker.adapters.avro_codec import EventCodec
from cprbroker.core.delivery.cloudevents import (
    CPR_TIME_ZONE,
    DEFAULT_SOURCE,
    SPEC_VERSION,
    event_time,
)
from cprbroker.core.events.event import BusinessEvent

CONTENT_TYPE = "application/avro"

Headers = list[tuple[str, bytes]]


class EventRecords:
    """Turns events into (key, value, headers) for ``cpr.events``."""

    def __init__(self, codec: EventCodec, *, source: str = DEFAULT_SOURCE) -> None:
        self._codec = codec
        self._static: Headers = [
            ("ce_specversion", SPEC_VERSION.encode()),
            ("ce_source", source.encode()),
            ("content-type", CONTENT_TYPE.encode()),
            ("ce_dataschema", f"urn:avro:crc64:{codec.fingerprint.hex()}".encode()),
        ]

    def record(self, event: BusinessEvent) -> tuple[bytes, bytes, Headers]:
        """The Kafka key, value and headers of ``event``; raises
        EventFormatError when the event does not fit the schema."""
        value = self._codec.encode(event)
        headers = [
            *self._static,
            ("ce_id", event.id.encode()),
            ("ce_type", event.type.encode()),
            ("ce_subject", event.pnr.encode()),
            ("ce_time", _time(event).encode()),
        ]
        return event.pnr.encode("ascii"), value, headers


def _time(event: BusinessEvent) -> str:
    known = event_time(event.occurred_at)
    if known is not None:
        return known
    day = dt.date.fromisoformat(event.production_date)
    return dt.datetime.combine(day, dt.time(), tzinfo=CPR_TIME_ZONE).isoformat()
