"""Reading a subscription's dead letters back, from where the last redrive
stopped, and remembering where that was.

Dead letters are keyed by subscription id, so one subscription's sit in one
partition of ``cpr.deliveries.dlq``. A *cursor* (partition, next offset) per
subscription is kept in a small compacted topic (``<deliveries>.redrives``),
together with the status the delivery role last acted on, so a re-enable that
happens while the role is down is still noticed at the next start.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass

import structlog

from cprbroker.adapters.delivery_records import DeliveryRecord, decode_delivery
from cprbroker.adapters.delivery_scan import ScanProgress, ScanWindow, scan_key_partition
from cprbroker.adapters.state_store import Apply, StateLog
from cprbroker.core.errors import EventFormatError

log = structlog.get_logger(__name__)

Resend = Callable[[DeliveryRecord], Awaitable[None]]
OpenLog = Callable[[str, Apply], StateLog]


@dataclass(frozen=True, slots=True)
class DlqCursor:
    """The next dead-letter offset not yet redriven, in its partition."""

    partition: int
    offset: int


@dataclass(frozen=True, slots=True)
class RedriveState:
    """What the delivery role last did about a subscription's dead letters:
    ``active`` false while it knows the subscription to be paused or disabled."""

    active: bool
    cursor: DlqCursor | None = None

    def to_json(self) -> bytes:
        """The record value on the redrive topic."""
        cursor = None
        if self.cursor is not None:
            cursor = {"partition": self.cursor.partition, "offset": self.cursor.offset}
        return json.dumps({"active": self.active, "cursor": cursor}).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> RedriveState:
        """Read a record value; ValueError/KeyError/TypeError when malformed."""
        document = json.loads(raw)
        cursor = document.get("cursor")
        return cls(
            active=bool(document["active"]),
            cursor=None
            if cursor is None
            else DlqCursor(int(cursor["partition"]), int(cursor["offset"])),
        )


class RedriveLedger:
    """Every subscription's :class:`RedriveState`, kept in a compacted topic."""

    def __init__(self, open_log: OpenLog, topic: str) -> None:
        self._states: dict[str, RedriveState] = {}
        self._log = open_log(topic, self._apply)

    @property
    def log(self) -> StateLog:
        """The state log (started and stopped by the owner)."""
        return self._log

    def _apply(self, key: bytes, value: bytes | None) -> None:
        subscription_id = key.decode("utf-8", errors="replace")
        if value is None:
            self._states.pop(subscription_id, None)
            return
        try:
            self._states[subscription_id] = RedriveState.from_json(value)
        except (ValueError, KeyError, TypeError):
            log.warning("delivery.bad_redrive_record", subscription_id=subscription_id)

    def get(self, subscription_id: str) -> RedriveState | None:
        """The state of one subscription, if any was written."""
        return self._states.get(subscription_id)

    def all(self) -> dict[str, RedriveState]:
        """Every known state, by subscription id."""
        return dict(self._states)

    async def put(self, subscription_id: str, state: RedriveState) -> None:
        """Store ``state``; return once readable here."""
        await self._log.write([(subscription_id.encode("utf-8"), state.to_json())])

    async def forget(self, subscription_id: str) -> None:
        """Drop the state of a deleted subscription."""
        await self._log.write([(subscription_id.encode("utf-8"), None)])


class KafkaDeadLetters:
    """Reads dead letters from the DLQ topic on Kafka."""

    def __init__(self, bootstrap_servers: str, topic: str) -> None:
        self._bootstrap = bootstrap_servers
        self._topic = topic

    async def replay(
        self, subscription_id: str, start: DlqCursor | None, resend: Resend
    ) -> DlqCursor:
        """Call ``resend`` for every dead letter of ``subscription_id`` from
        ``start`` up to the end of its partition as of now; return the cursor
        after the last one read."""
        key = subscription_id.encode("utf-8")
        progress = ScanProgress()
        window = ScanWindow(
            offset=None if start is None else start.offset,
            offset_partition=None if start is None else start.partition,
        )
        scan = scan_key_partition(self._bootstrap, self._topic, key, window, progress)
        async with aclosing(scan) as records:
            async for record in records:
                if record.key != key or record.value is None:
                    continue
                delivery = _decode(record.value, record.offset)
                if delivery is not None and delivery.subscription_id == subscription_id:
                    await resend(delivery)
        return DlqCursor(progress.partition, progress.next_offset)


class InMemoryDeadLetters:
    """The fake for service tests: the DLQ is a list of record values (one
    partition), e.g. an :class:`~cprbroker.adapters.delivery_outbox.InMemoryRecordSink`'s."""

    def __init__(self, values: Callable[[], list[bytes]]) -> None:
        self._values = values

    async def replay(
        self, subscription_id: str, start: DlqCursor | None, resend: Resend
    ) -> DlqCursor:
        """As :meth:`KafkaDeadLetters.replay`."""
        values = self._values()
        begin = start.offset if start is not None else 0
        for offset in range(begin, len(values)):
            delivery = _decode(values[offset], offset)
            if delivery is not None and delivery.subscription_id == subscription_id:
                await resend(delivery)
        return DlqCursor(0, len(values))


def _decode(value: bytes, offset: int) -> DeliveryRecord | None:
    try:
        return decode_delivery(value)
    except EventFormatError as exc:
        log.warning("delivery.bad_dead_letter", offset=offset, error=str(exc))
        return None
