"""Assemble the HTTP request of one delivery attempt: shaped payload in a
CloudEvents envelope, signed per Standard Webhooks.

The body is the same on every attempt (deterministic JSON of the same event);
``webhook-timestamp`` and the signatures are fresh per attempt, ``webhook-id``
never changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cprbroker.core.delivery.cloudevents import (
    CONTENT_TYPE,
    CPR_TIME_ZONE,
    DEFAULT_SOURCE,
    build_envelope,
    encode_envelope,
    webhook_message_id,
)
from cprbroker.core.delivery.payload import PayloadLevel, shape_payload
from cprbroker.core.delivery.signing import EndpointSecrets, signature_header


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """Everything the sender needs besides the URL; ``headers`` are lower-case."""

    message_id: str
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def encode_delivery_body(
    event: Mapping[str, Any],
    level: PayloadLevel,
    *,
    may_see_protected: bool,
    on: dt.date,
    source: str = DEFAULT_SOURCE,
) -> bytes:
    """The JSON body for ``event`` as this subscriber may see it on date ``on``."""
    data = shape_payload(event, level, may_see_protected=may_see_protected, on=on)
    return encode_envelope(build_envelope(event, data, source=source))


def sign_request(
    message_id: str, body: bytes, secrets: EndpointSecrets, now: float
) -> WebhookRequest:
    """Return the request for ``body`` signed at ``now`` (epoch seconds) with the
    endpoint's current secret and, within its grace, the previous one."""
    timestamp = int(now)
    return WebhookRequest(
        message_id=message_id,
        body=body,
        headers={
            "content-type": CONTENT_TYPE,
            "webhook-id": message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature_header(
                secrets.signing_secrets(now), message_id, timestamp, body
            ),
        },
    )


def build_request(
    event: Mapping[str, Any],
    *,
    subscription_id: str,
    level: PayloadLevel,
    may_see_protected: bool,
    secrets: EndpointSecrets,
    now: float,
    source: str = DEFAULT_SOURCE,
) -> WebhookRequest:
    """The signed request delivering ``event`` to ``subscription_id`` at ``now``;
    protection is judged on the Danish calendar date of ``now``."""
    on = dt.datetime.fromtimestamp(now, tz=CPR_TIME_ZONE).date()
    body = encode_delivery_body(
        event, level, may_see_protected=may_see_protected, on=on, source=source
    )
    return sign_request(
        webhook_message_id(subscription_id, str(event.get("id", ""))), body, secrets, now
    )
