"""``/v1/subscriptions/{id}/deliveries``, ``.../redeliver``, ``.../replay`` and
``.../test``: what happened to a subscription's deliveries, and asking for
them again.

* ``GET .../deliveries?status=&since=&cursor=&limit=`` pages through the
  attempt log (oldest first from ``since``, default seven days back);
  ``next_cursor`` continues it.
* ``POST .../deliveries/{delivery_id}/redeliver`` queues that delivery again
  (same ``webhook-id``), from the event on ``cpr.events``.
* ``POST .../replay`` with ``{"since": "<RFC 3339>"}`` queues every event on
  ``cpr.events`` since then that matches the subscription now.
* ``POST .../test`` sends a signed ping and answers how the endpoint replied.

Redelivery and replay need an active subscription (409 otherwise). Every call
is audited.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from typing import Any

from aiohttp import web

from cprbroker.adapters.delivery_attempts import (
    AttemptLogEntry,
    AttemptQuery,
    AttemptStatus,
    parse_cursor,
)
from cprbroker.adapters.delivery_desk import DeliveryDesk, KafkaDeliveryDesk
from cprbroker.adapters.delivery_matching import event_facts, may_receive, wants
from cprbroker.adapters.delivery_records import DeliveryRecord, Origin, encode_event
from cprbroker.adapters.delivery_scan import ScanWindow
from cprbroker.api.context import (
    CONTEXT,
    caller,
    context,
    json_response,
    read_json,
    record,
    visible_subscription,
)
from cprbroker.api.delivery_openapi import RFC3339
from cprbroker.api.problems import Problem, bad_parameter, invalid, not_found
from cprbroker.core.delivery.attempt import AttemptResult
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.cloudevents import DEFAULT_SOURCE, encode_envelope
from cprbroker.core.delivery.request import sign_request
from cprbroker.core.delivery.signing import EndpointSecrets
from cprbroker.core.subscriptions import Subscription, SubscriptionState

BASE = "/v1/subscriptions/{id}"
DELIVERY_DESK = web.AppKey("cprbroker.api.delivery_desk", DeliveryDesk)
PING_TYPE = "cpr.ping"
DEFAULT_LOOKBACK = dt.timedelta(days=7)
MAX_PAGE = 1000
_ENQUEUE_CHUNK = 500


def setup(app: web.Application) -> None:
    """Register the delivery routes, with a Kafka desk from the context's
    settings unless one is set already (tests set a fake before starting)."""
    if DELIVERY_DESK not in app:
        settings = app[CONTEXT].settings
        app[DELIVERY_DESK] = KafkaDeliveryDesk(
            settings.bootstrap_servers,
            settings.topics,
            AddressPolicy.from_cidrs(settings.callback_allow_cidrs),
        )
    app.on_cleanup.append(_close_desk)
    router = app.router
    router.add_get(BASE + "/deliveries", list_deliveries, name="deliveries.list")
    router.add_post(
        BASE + "/deliveries/{delivery_id}/redeliver", redeliver, name="deliveries.redeliver"
    )
    router.add_post(BASE + "/replay", replay, name="deliveries.replay")
    router.add_post(BASE + "/test", test_ping, name="subscription.test")


async def _close_desk(app: web.Application) -> None:
    await app[DELIVERY_DESK].close()


def _desk(request: web.Request) -> DeliveryDesk:
    return request.app[DELIVERY_DESK]


def rfc3339(value: object) -> dt.datetime | None:
    """``value`` as an aware datetime if it is an RFC 3339 date-time, else None."""
    if not isinstance(value, str) or not re.fullmatch(RFC3339, value):
        return None
    try:
        return dt.datetime.fromisoformat(value.upper())
    except ValueError:
        return None


def _parse_time(name: str, value: str) -> dt.datetime:
    parsed = rfc3339(value)
    if parsed is None:
        raise bad_parameter(name, f"must be an RFC 3339 time with an offset, got {value!r}")
    return parsed


def _require_active(subscription: Subscription) -> None:
    if subscription.status.state is not SubscriptionState.ACTIVE:
        raise Problem(
            409,
            "conflict",
            "Subscription not active",
            f"subscription {subscription.id} is {subscription.status.state.value}; "
            "set its status to active first",
        )


def _page_query(request: web.Request, subscription_id: str) -> AttemptQuery:
    query = request.query
    status: AttemptStatus | None = None
    if "status" in query:
        try:
            status = AttemptStatus(query["status"])
        except ValueError:
            allowed = ", ".join(s.value for s in AttemptStatus)
            raise bad_parameter("status", f"must be one of {allowed}") from None
    limit = 100
    if "limit" in query:
        raw = query["limit"]
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
            raise bad_parameter("limit", f"must be an integer 1..{MAX_PAGE}, got {raw!r}")
        limit = int(raw)
    skip = 0
    if "cursor" in query:
        position = parse_cursor(query["cursor"])
        if position is None:
            raise bad_parameter("cursor", "must be the next_cursor of a previous page")
        offset, skip = position
        window = ScanWindow(offset=offset)
    elif "since" in query:
        window = ScanWindow(since=_parse_time("since", query["since"]))
    else:
        window = ScanWindow(since=context(request).clock() - DEFAULT_LOOKBACK)
    return AttemptQuery(subscription_id, status=status, window=window, limit=limit, skip=skip)


async def list_deliveries(request: web.Request) -> web.Response:
    """GET: one page of the attempt log (status, HTTP code, latency, error, attempt)."""
    subscription = visible_subscription(request)
    query = _page_query(request, subscription.id)
    page = await _desk(request).attempts(query)
    await record(
        request,
        "deliveries.list",
        "OK",
        200,
        subscription_id=subscription.id,
        criteria={k: request.query[k] for k in ("status", "since", "cursor") if k in request.query},
    )
    return json_response(
        {
            "deliveries": [_public(entry) for entry in page.entries],
            "next_cursor": page.next_cursor,
        }
    )


def _public(entry: AttemptLogEntry) -> dict[str, Any]:
    document = entry.to_document()
    # Where the event sits on Kafka is the broker's business.
    document.pop("event_ref", None)
    document.pop("subscription_id", None)
    return document


async def redeliver(request: web.Request) -> web.Response:
    """POST: queue one delivery again, from its event (202)."""
    subscription = visible_subscription(request)
    _require_active(subscription)
    delivery_id = request.match_info["delivery_id"]
    desk = _desk(request)
    entry = await desk.find_delivery(subscription.id, delivery_id)
    event = None
    if entry is not None and entry.event_ref is not None:
        event = await desk.read_event(entry.event_ref)
    if (
        entry is None
        or entry.event_ref is None
        or event is None
        or event.get("id") != entry.event_id
    ):
        raise not_found(f"delivery {delivery_id}")
    await desk.enqueue(
        [DeliveryRecord(subscription.id, event, entry.event_ref, origin=Origin.REDELIVER)]
    )
    await record(
        request,
        "deliveries.redeliver",
        "QUEUED",
        202,
        subscription_id=subscription.id,
        extra={"delivery_id": delivery_id, "event_id": entry.event_id},
    )
    return json_response({"delivery_id": delivery_id, "status": "queued"}, 202)


async def replay(request: web.Request) -> web.Response:
    """POST {"since": ...}: queue every event since then that matches now (202)."""
    subscription = visible_subscription(request)
    body = await read_json(request)
    if not isinstance(body, dict) or set(body) - {"since"}:
        raise invalid("", 'the body must be {"since": "<RFC 3339 time>"}')
    since = rfc3339(body.get("since"))
    if since is None:
        shown = repr(body.get("since")) if "since" in body else "nothing"
        raise invalid("/since", f"must be an RFC 3339 time with an offset, got {shown}")
    _require_active(subscription)
    ctx = context(request)
    owner = ctx.clients.get(subscription.owner)
    desk = _desk(request)

    def on_list(pnr: str) -> bool:
        return ctx.subscriptions.on_list(subscription.id, pnr)

    scanned = queued = 0
    batch: list[DeliveryRecord] = []
    async for ref, event in desk.events_since(since):
        scanned += 1
        facts = event_facts(event)
        if not wants(subscription, facts, on_list) or not may_receive(owner, facts.type):
            continue
        batch.append(
            DeliveryRecord(
                subscription.id, event, ref, origin=Origin.REPLAY, event_json=encode_event(event)
            )
        )
        if len(batch) >= _ENQUEUE_CHUNK:
            await desk.enqueue(batch)
            queued += len(batch)
            batch = []
    if batch:
        await desk.enqueue(batch)
        queued += len(batch)
    await record(
        request,
        "deliveries.replay",
        "QUEUED",
        202,
        subscription_id=subscription.id,
        criteria={"since": since.isoformat()},
        extra={"events_scanned": scanned, "deliveries_queued": queued},
    )
    return json_response(
        {"since": since.isoformat(), "events_scanned": scanned, "deliveries_queued": queued}, 202
    )


async def test_ping(request: web.Request) -> web.Response:
    """POST: send a signed ping to the endpoint now; answer how it replied."""
    subscription = visible_subscription(request)
    now = time.time()
    ping_id = uuid.uuid4().hex
    envelope = {
        "specversion": "1.0",
        "id": ping_id,
        "source": DEFAULT_SOURCE,
        "type": PING_TYPE,
        "subject": subscription.id,
        "time": dt.datetime.fromtimestamp(now, tz=dt.UTC).isoformat(),
        "datacontenttype": "application/json",
        "data": {"subscription_id": subscription.id, "requested_by": caller(request).name},
    }
    message_id = f"msg_ping_{ping_id}"
    signed = sign_request(
        message_id, encode_envelope(envelope), EndpointSecrets(subscription.endpoint.secret), now
    )
    result = await _desk(request).ping(subscription.endpoint.url, signed)
    answer = _ping_answer(result)
    await _desk(request).record_attempt(
        AttemptLogEntry(
            at=now,
            subscription_id=subscription.id,
            delivery_id=message_id,
            event_id=ping_id,
            event_type=PING_TYPE,
            attempt=1,
            status=AttemptStatus.PING,
            stage="api",
            http_status=result.status,
            latency_ms=answer["latency_ms"],
            error=answer["error"],
            origin="test",
        )
    )
    await record(
        request,
        "subscription.test",
        "DELIVERED" if result.succeeded else "FAILED",
        200,
        subscription_id=subscription.id,
        extra={"http_status": result.status, "endpoint_url": subscription.endpoint.url},
    )
    return json_response({"delivery_id": message_id, **answer})


def _ping_answer(result: AttemptResult) -> dict[str, Any]:
    error = None
    if result.error_kind is not None:
        error = f"{result.error_kind.value}: {result.detail}" if result.detail else None
        error = error or result.error_kind.value
    elif not result.succeeded:
        error = f"status {result.status}"
    return {
        "delivered": result.succeeded,
        "http_status": result.status,
        "latency_ms": round(result.latency * 1000, 3),
        "error": error,
    }
