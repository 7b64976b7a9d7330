"""The demo's webhook receiver: what a subscribing system runs, in small.

It accepts ``POST /webhook`` with a CloudEvents 1.0 structured JSON body,
checks the Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``) with :func:`cprbroker.core.delivery.signing.verify_headers`,
answers 401 when it fails and 204 when it holds, and deduplicates on
``webhook-id`` (delivery is at least once: a retried delivery keeps its id).
It keeps counters and the last deliveries for the demo's live view. CPR
numbers are shown masked (birth date only).
"""

from __future__ import annotations

import collections
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import structlog
from aiohttp import web

from cprbroker.adapters.health import HttpEndpoint, serve_app
from cprbroker.core.delivery.signing import verify_headers
from cprbroker.core.errors import WebhookSignatureError

log = structlog.get_logger(__name__)

PATH = "/webhook"


def mask_pnr(pnr: object) -> str:
    """``DDMMYY-****``: the birth date of a CPR number, the rest hidden."""
    text = str(pnr or "")
    return f"{text[:6]}-****" if len(text) >= 6 else "******-****"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One verified delivery, as the live view shows it."""

    webhook_id: str
    event_type: str
    person: str
    code: str | None
    municipality_before: str | None
    municipality_after: str | None
    received_at: float

    @classmethod
    def of(cls, webhook_id: str, envelope: Any, received_at: float) -> Delivery:
        """Read the CloudEvents envelope (fields missing or odd are shown as such)."""
        if not isinstance(envelope, dict):
            envelope = {}
        data = envelope.get("data")
        if not isinstance(data, dict):
            data = {}
        return cls(
            webhook_id=webhook_id,
            event_type=str(envelope.get("type", "?")),
            person=mask_pnr(envelope.get("subject")),
            code=_text(data.get("cpr_event_code")),
            municipality_before=_text(data.get("municipality_before")),
            municipality_after=_text(data.get("municipality_after")),
            received_at=received_at,
        )

    def line(self) -> str:
        """One line for a terminal."""
        moved = f"{self.municipality_before or '----'}->{self.municipality_after or '----'}"
        clock = time.strftime("%H:%M:%S", time.localtime(self.received_at))
        short = self.event_type.removeprefix("cpr.person.")
        return f"{clock}  {short:26} {self.code or '   '}  {self.person}  kommune {moved}"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass
class ReceiverTally:
    """What the receiver got."""

    requests: int = 0
    verified: int = 0
    refused: int = 0
    duplicates: int = 0
    by_type: collections.Counter[str] = field(default_factory=collections.Counter)
    last: collections.deque[Delivery] = field(default_factory=lambda: collections.deque(maxlen=8))
    ids: set[str] = field(default_factory=set)

    @property
    def unique(self) -> int:
        """Distinct deliveries (webhook ids) verified."""
        return len(self.ids)

    def record(
        self, secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: float
    ) -> tuple[int, Delivery | None]:
        """Check one request and count it. Returns the HTTP status to answer
        (401 bad signature, 204 otherwise) and the delivery if it is new."""
        self.requests += 1
        try:
            webhook_id = verify_headers(secrets, headers, body, now=now)
        except WebhookSignatureError as exc:
            self.refused += 1
            log.warning("demo.receiver_refused", reason=str(exc))
            return 401, None
        if webhook_id in self.ids:
            self.duplicates += 1
            return 204, None
        try:
            envelope = json.loads(body)
        except ValueError:
            envelope = {}
        delivery = Delivery.of(webhook_id, envelope, now)
        self.ids.add(webhook_id)
        self.verified += 1
        self.by_type[delivery.event_type] += 1
        self.last.append(delivery)
        return 204, delivery


class DemoReceiver:
    """A webhook receiver verifying signatures with ``secrets`` (module docstring)."""

    def __init__(
        self,
        secrets: Sequence[str],
        *,
        clock: Callable[[], float] = time.time,
        on_delivery: Callable[[Delivery], None] | None = None,
    ) -> None:
        self.secrets = list(secrets)
        self.tally = ReceiverTally()
        self._clock = clock
        self._on_delivery = on_delivery
        self._endpoint: HttpEndpoint | None = None

    def app(self) -> web.Application:
        """The aiohttp application (``POST /webhook``)."""
        app = web.Application()
        app.router.add_post(PATH, self.receive)
        return app

    async def receive(self, request: web.Request) -> web.Response:
        """Verify and record one delivery (:meth:`ReceiverTally.record`)."""
        body = await request.read()
        status, delivery = self.tally.record(self.secrets, request.headers, body, self._clock())
        if delivery is not None and self._on_delivery is not None:
            self._on_delivery(delivery)
        if status == 401:
            return web.json_response({"error": "webhook signature not valid"}, status=401)
        return web.Response(status=status)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on ``host:port`` (0: a free port); return the webhook URL."""
        self._endpoint = await serve_app(self.app(), host, port)
        return self._endpoint.url + PATH

    async def stop(self) -> None:
        """Stop serving."""
        if self._endpoint is not None:
            await self._endpoint.stop()
            self._endpoint = None
