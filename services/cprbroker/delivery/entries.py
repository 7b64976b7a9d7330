"""The attempt-log entries and texts the courier writes, and the body it sends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cprbroker.adapters.delivery_attempts import AttemptLogEntry, AttemptStatus
from cprbroker.adapters.delivery_records import DeliveryRecord
from cprbroker.core.delivery.attempt import AttemptResult
from cprbroker.core.delivery.cloudevents import build_envelope, encode_envelope
from cprbroker.core.delivery.payload import PayloadLevel, has_active_name_and_address_protection
from cprbroker.core.delivery.request import encode_delivery_body
from cprbroker.core.delivery.retry import Outcome


def delivery_body(
    event: Mapping[str, Any],
    level: PayloadLevel,
    *,
    may_see_protected: bool,
    on: dt.date,
    source: str,
) -> bytes:
    """The same bytes as :func:`~cprbroker.core.delivery.request.encode_delivery_body`,
    without its defensive deep copy when the whole event goes out unmasked: a
    delivery's event was decoded for this delivery alone, and copying a full
    snapshot is most of the CPU a delivery costs."""
    if level is PayloadLevel.FULL and (
        may_see_protected or not has_active_name_and_address_protection(event, on)
    ):
        return encode_envelope(build_envelope(event, event, source=source))
    return encode_delivery_body(
        event, level, may_see_protected=may_see_protected, on=on, source=source
    )


def result_label(result: AttemptResult) -> str:
    """The metric label of an attempt: the status class (``2xx``) or the error kind."""
    if result.status is not None and result.error_kind is None:
        return f"{result.status // 100}xx"
    return result.error_kind.value if result.error_kind is not None else "unknown"


def describe(result: AttemptResult, outcome: Outcome | None) -> str:
    """Short text for logs, the attempt log and the DLQ: status or error kind,
    and the adapter's detail."""
    if result.error_kind is not None:
        text = result.error_kind.value
        if result.status is not None:
            text += f" (status {result.status})"
    else:
        text = f"status {result.status}"
    if result.detail:
        text += f": {result.detail[:200]}"
    if outcome is not None and outcome.retry_after is not None:
        text += f"; retry after {outcome.retry_after:g}s"
    return text


def attempt_entry(
    record: DeliveryRecord,
    stage: str,
    number: int,
    result: AttemptResult,
    now: float,
    *,
    status: AttemptStatus = AttemptStatus.FAILED,
) -> AttemptLogEntry:
    """The entry of HTTP attempt ``number`` (status FAILED unless told otherwise)."""
    return AttemptLogEntry(
        at=now,
        subscription_id=record.subscription_id,
        delivery_id=record.message_id,
        event_id=record.event_id,
        event_type=record.event_type,
        attempt=number,
        status=status,
        stage=stage,
        http_status=result.status,
        latency_ms=round(result.latency * 1000, 3),
        error=None if result.succeeded else describe(result, None),
        event_ref=record.event_ref,
        origin=record.origin.value,
    )


def status_entry(
    record: DeliveryRecord,
    stage: str,
    status: AttemptStatus,
    now: float,
    *,
    error: str | None = None,
    next_attempt_at: float | None = None,
) -> AttemptLogEntry:
    """An entry without an HTTP attempt (deferred, dead-lettered, dropped)."""
    return AttemptLogEntry(
        at=now,
        subscription_id=record.subscription_id,
        delivery_id=record.message_id,
        event_id=record.event_id,
        event_type=record.event_type,
        attempt=record.attempts,
        status=status,
        stage=stage,
        error=error,
        next_attempt_at=next_attempt_at,
        event_ref=record.event_ref,
        origin=record.origin.value,
    )
