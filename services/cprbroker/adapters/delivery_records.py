"""The record of one delivery (one event for one subscription) on the delivery
topics: ``cpr.deliveries``, the retry tiers and the dead-letter topic.

Key = subscription id. Value = compact JSON::

    {"v": 1, "subscription_id": "...", "origin": "event",
     "event_ref": {"topic": "cpr.events", "partition": 3, "offset": 1234,
                   "timestamp_ms": 1717146000000},
     "retries": 0, "attempts": 0, "due_at": 0.0,
     "first_failed_at": null, "last_error": null,
     "event": { ... the event's JSON form (cprbroker.core.events.serial) ... }}

``event_ref`` says where the event sits on ``cpr.events`` (so a delivery can be
redriven from the event log long after the delivery topics forgot it) and
when it was ingested (the record time, for the end-to-end freshness metric).
``retries`` counts the rungs of the durable ladder used, ``attempts`` the HTTP
attempts made; ``due_at`` (epoch seconds) is when a retry tier may try again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from cprbroker.core.delivery.cloudevents import webhook_message_id
from cprbroker.core.errors import EventFormatError

FORMAT_VERSION = 1


class Origin(StrEnum):
    """Why a delivery exists."""

    EVENT = "event"  # fan-out of a new event on cpr.events
    REDELIVER = "redeliver"  # asked for through the API, one delivery
    REPLAY = "replay"  # asked for through the API, every match since a time
    REDRIVE = "redrive"  # a dead letter sent again after the subscription was re-enabled


@dataclass(frozen=True, slots=True)
class EventRef:
    """Where an event sits on the events topic, and when it was written there."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int

    def to_document(self) -> dict[str, Any]:
        """The JSON object form."""
        return {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "timestamp_ms": self.timestamp_ms,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> EventRef:
        """Read the JSON object form; KeyError/TypeError/ValueError if malformed."""
        return cls(
            topic=str(document["topic"]),
            partition=int(document["partition"]),
            offset=int(document["offset"]),
            timestamp_ms=int(document["timestamp_ms"]),
        )


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """One event on its way to one subscription."""

    subscription_id: str
    event: Mapping[str, Any]
    event_ref: EventRef
    origin: Origin = Origin.EVENT
    retries: int = 0
    attempts: int = 0
    due_at: float = 0.0
    first_failed_at: float | None = None
    last_error: str | None = None
    # The event's JSON bytes when known, so a fan-out of one event to many
    # subscriptions serialises it once.
    event_json: bytes | None = field(default=None, compare=False, repr=False)
    # The webhook-id once worked out (a hash, asked for several times per attempt).
    _message_id: str | None = field(default=None, init=False, compare=False, repr=False)

    @property
    def event_id(self) -> str:
        """The event's id."""
        return str(self.event.get("id", ""))

    @property
    def message_id(self) -> str:
        """The ``webhook-id`` (and API delivery id): one per (subscription, event)."""
        known = self._message_id
        if known is None:
            known = webhook_message_id(self.subscription_id, self.event_id)
            object.__setattr__(self, "_message_id", known)
        return known

    @property
    def event_type(self) -> str:
        """The event's business event type."""
        return str(self.event.get("type", ""))

    def key(self) -> bytes:
        """The Kafka key: the subscription id."""
        return self.subscription_id.encode("utf-8")

    def encode(self) -> bytes:
        """The Kafka record value."""
        head = {
            "v": FORMAT_VERSION,
            "subscription_id": self.subscription_id,
            "origin": self.origin.value,
            "event_ref": self.event_ref.to_document(),
            "retries": self.retries,
            "attempts": self.attempts,
            "due_at": self.due_at,
            "first_failed_at": self.first_failed_at,
            "last_error": self.last_error,
        }
        event_json = self.event_json
        if event_json is None:
            event_json = encode_event(self.event)
        # Splice the event in as already-encoded JSON: "{...head...,"event":<event>}".
        text = json.dumps(head, separators=(",", ":")).encode("utf-8")
        return text[:-1] + b',"event":' + event_json + b"}"

    def fresh(self, origin: Origin) -> DeliveryRecord:
        """This delivery starting over (no retries, attempts or error), e.g. redriven."""
        return replace(
            self,
            origin=origin,
            retries=0,
            attempts=0,
            due_at=0.0,
            first_failed_at=None,
            last_error=None,
        )


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The compact JSON of an event's plain form (what delivery records embed)."""
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode_delivery(raw: bytes) -> DeliveryRecord:
    """Read a record value written by :meth:`DeliveryRecord.encode`; raise
    EventFormatError naming the field when it is not one."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EventFormatError(f"delivery record is not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventFormatError("/: a delivery record must be a JSON object")
    version = document.get("v")
    if version != FORMAT_VERSION:
        raise EventFormatError(f"/v: unknown delivery record version {version!r}")
    try:
        event = document["event"]
        subscription_id = document["subscription_id"]
        first_failed_at = document.get("first_failed_at")
        last_error = document.get("last_error")
        record = DeliveryRecord(
            subscription_id=subscription_id,
            event=event,
            event_ref=EventRef.from_document(document["event_ref"]),
            origin=Origin(document.get("origin", Origin.EVENT.value)),
            retries=int(document.get("retries", 0)),
            attempts=int(document.get("attempts", 0)),
            due_at=float(document.get("due_at", 0.0)),
            first_failed_at=None if first_failed_at is None else float(first_failed_at),
            last_error=None if last_error is None else str(last_error),
        )
    except KeyError as exc:
        raise EventFormatError(f"/{exc.args[0]}: required field is missing") from exc
    except (TypeError, ValueError) as exc:
        raise EventFormatError(f"delivery record is malformed: {exc}") from exc
    if not isinstance(record.event, dict):
        raise EventFormatError("/event: must be an object")
    if not isinstance(record.subscription_id, str) or not record.subscription_id:
        raise EventFormatError("/subscription_id: must be a non-empty string")
    return record
