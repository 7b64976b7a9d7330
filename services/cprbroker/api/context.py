"""What every handler needs: the application's ports, the caller, the JSON body, the audit.

:class:`ApiContext` holds the ports (stores, audit trail, callback check) so a
test can build the app around in-memory fakes and ``cprbroker run`` around the
Kafka-backed ones.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from cprbroker.adapters.audit_log import AuditTrail
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.known_persons import KnownPersons
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.api.callbacks import CallbackCheck
from cprbroker.api.problems import Problem, forbidden, malformed, not_found, too_large
from cprbroker.api.settings import ApiSettings
from cprbroker.core.audit import AuditEntry, PnrOutcome
from cprbroker.core.clients import ApiClient
from cprbroker.core.subscriptions import Subscription

JSON_TYPES = ("application/json", "application/merge-patch+json")


class KeyedLocks:
    """One lock per key, forgotten when nobody holds or waits for it (so probing
    many ids cannot grow it)."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock of ``key`` for the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


@dataclass
class ApiContext:
    """The ports and settings one API app works with.

    ``ready`` says whether the state has been loaded; until then every
    ``/v1`` call answers 503.
    """

    settings: ApiSettings
    clients: ClientRegistry
    subscriptions: SubscriptionStore
    known_persons: KnownPersons
    audit: AuditTrail
    callbacks: CallbackCheck
    known_event_types: Collection[str]
    ready: Callable[[], bool] = lambda: True
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    locks: KeyedLocks = field(default_factory=KeyedLocks)


CONTEXT = web.AppKey("cprbroker.api.context", ApiContext)
CLIENT = web.RequestKey("cprbroker.api.client", ApiClient)
ON_BEHALF_OF = web.RequestKey("cprbroker.api.on_behalf_of", str)
REQUEST_ID = web.RequestKey("cprbroker.api.request_id", str)


def context(request: web.Request) -> ApiContext:
    """The app's context."""
    return request.app[CONTEXT]


def caller(request: web.Request) -> ApiClient:
    """The authenticated client making ``request``."""
    return request[CLIENT]


async def read_json(request: web.Request) -> object:
    """The request body as JSON, or a problem: 415 not JSON, 413 too big, 400 malformed."""
    if request.content_type not in JSON_TYPES:
        raise Problem(
            415,
            "unsupported-media-type",
            "Unsupported media type",
            f"send the body as application/json, not {request.content_type or 'nothing'}",
        )
    limit = context(request).settings.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise too_large(f"the body is {request.content_length} bytes; at most {limit} allowed")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise too_large(f"the body is over {limit} bytes") from exc
    if len(raw) > limit:
        raise too_large(f"the body is {len(raw)} bytes; at most {limit} allowed")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise malformed(f"the body is not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise malformed(
            f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from exc
    except ValueError as exc:
        raise malformed(f"the body is not JSON: {exc}") from exc


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def json_response(document: object, status: int = 200, **headers: str) -> web.Response:
    """``document`` as an application/json response."""
    return web.Response(
        status=status,
        body=json.dumps(document).encode("utf-8"),
        content_type="application/json",
        headers=headers,
    )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def one_at_a_time(handler: Handler) -> Handler:
    """Run ``handler`` holding the lock of the subscription in the path.

    Changes to one subscription and its list are applied one after another in
    this process, so SF6002 answers are exact and a change cannot resurrect a
    subscription deleted a moment before. Across API processes the last
    write wins.
    """

    @functools.wraps(handler)
    async def serialised(request: web.Request) -> web.StreamResponse:
        async with context(request).locks.hold(request.match_info["id"]):
            return await handler(request)

    return serialised


def visible_subscription(request: web.Request) -> Subscription:
    """The subscription named in the path, if the caller may see it; else a 404 problem.

    Another client's subscription answers exactly like a missing one, so ids
    cannot be probed.
    """
    subscription_id = request.match_info["id"]
    subscription = context(request).subscriptions.get(subscription_id)
    client = caller(request)
    if subscription is None or (not client.admin and subscription.owner != client.name):
        raise not_found(f"subscription {subscription_id}")
    return subscription


def check_entitled(client: ApiClient, event_types: Collection[str] | None) -> None:
    """403 naming the event types the client may not subscribe to, if any."""
    if event_types is None:
        return
    refused = client.not_entitled(event_types)
    if refused:
        raise forbidden(
            f"client {client.name!r} is not entitled to event types: {', '.join(refused)}",
            pointer="/filter/event_types",
        )


async def record(
    request: web.Request,
    action: str,
    result: str,
    status: int,
    *,
    subscription_id: str | None = None,
    pnrs: Sequence[PnrOutcome] = (),
    criteria: Mapping[str, Any] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Append the audit entry of this call (raises KafkaUnavailableError if it cannot)."""
    ctx = context(request)
    client = request.get(CLIENT)
    entry = AuditEntry(
        at=ctx.clock(),
        client=client.name if client is not None else "(unauthenticated)",
        on_behalf_of=request.get(ON_BEHALF_OF),
        action=action,
        result=result,
        status=status,
        request_id=request.get(REQUEST_ID, ""),
        subscription_id=subscription_id,
        pnrs=tuple(pnrs),
        criteria=criteria,
        extra=dict(extra or {}),
    )
    await ctx.audit.append(entry)
