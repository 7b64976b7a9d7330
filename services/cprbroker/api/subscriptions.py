"""``/v1/subscriptions``: create, list, read, change and delete subscriptions.

A client sees and changes only its own subscriptions (another client's id
answers 404); an admin client sees all. A PATCH is a JSON merge patch
(RFC 7386) over the subscription's request form, validated as a whole, so a
change is either applied entirely or not at all. Setting
``endpoint.secret`` to null rotates to a generated secret, shown once.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from aiohttp import web

from cprbroker.api.context import (
    caller,
    check_entitled,
    context,
    json_response,
    one_at_a_time,
    read_json,
    record,
    visible_subscription,
)
from cprbroker.api.problems import bad_parameter, invalid
from cprbroker.core.audit import outcomes
from cprbroker.core.errors import CallbackUrlError
from cprbroker.core.subscriptions import (
    Subscription,
    SubscriptionRequest,
    SubscriptionState,
    filter_to_document,
    parse_subscription_request,
    subscription_to_document,
)

BASE = "/v1/subscriptions"


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the subscription routes."""
    router.add_post(BASE, create, name="subscription.create")
    router.add_get(BASE, list_subscriptions, name="subscription.list")
    router.add_get(BASE + "/{id}", read, name="subscription.read")
    router.add_patch(BASE + "/{id}", change, name="subscription.change")
    router.add_delete(BASE + "/{id}", delete, name="subscription.delete")


def public_document(
    request: web.Request, subscription: Subscription, *, show_secret: bool = False
) -> dict[str, Any]:
    """The subscription as the API shows it: no secret unless just generated."""
    document = subscription_to_document(subscription, include_secret=show_secret)
    document["pnr_count"] = context(request).subscriptions.list_size(subscription.id)
    return document


def _criteria(subscription: Subscription) -> dict[str, Any]:
    """What the audit records of a subscription: its filter and where events go."""
    return {
        "name": subscription.name,
        "endpoint_url": subscription.endpoint.url,
        "filter": filter_to_document(subscription.filter),
        "payload_level": subscription.payload_level.value,
        "status": subscription.status.state.value,
    }


async def _validated(request: web.Request, body: object) -> SubscriptionRequest:
    ctx = context(request)
    parsed = parse_subscription_request(body, known_event_types=ctx.known_event_types)
    check_entitled(caller(request), parsed.filter.event_types)
    try:
        await ctx.callbacks.check(parsed.endpoint.url)
    except CallbackUrlError as exc:
        raise invalid("/endpoint/url", str(exc)) from exc
    return parsed


async def create(request: web.Request) -> web.Response:
    """POST: create a subscription owned by the caller (201, secret shown if generated)."""
    ctx = context(request)
    parsed = await _validated(request, await read_json(request))
    subscription = parsed.to_subscription(str(uuid.uuid4()), caller(request).name, ctx.clock())
    await ctx.subscriptions.put(subscription)
    await record(
        request,
        "subscription.create",
        "CREATED",
        201,
        subscription_id=subscription.id,
        criteria=_criteria(subscription),
    )
    document = public_document(request, subscription, show_secret=parsed.secret_generated)
    return json_response(document, 201, Location=f"{BASE}/{subscription.id}")


async def list_subscriptions(request: web.Request) -> web.Response:
    """GET: the caller's subscriptions (an admin's: all, or one owner's with ``?owner=``)."""
    ctx = context(request)
    client = caller(request)
    owner = request.query.get("owner")
    if owner is not None and not client.admin:
        raise bad_parameter("owner", "only an admin client may list other clients' subscriptions")
    if client.admin:
        found = ctx.subscriptions.all() if owner is None else ctx.subscriptions.owned_by(owner)
    else:
        found = ctx.subscriptions.owned_by(client.name)
    await record(
        request,
        "subscription.list",
        "OK",
        200,
        criteria={"owner": owner} if owner else None,
        extra={"subscription_ids": [s.id for s in found]},
    )
    return json_response({"subscriptions": [public_document(request, s) for s in found]})


async def read(request: web.Request) -> web.Response:
    """GET one: the subscription (never its secret)."""
    subscription = visible_subscription(request)
    await record(request, "subscription.read", "OK", 200, subscription_id=subscription.id)
    return json_response(public_document(request, subscription))


def _merge_patch(target: object, patch: object) -> object:
    """RFC 7386 JSON merge patch of ``patch`` onto ``target``."""
    if not isinstance(patch, dict):
        return patch
    result: dict[str, object] = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


@one_at_a_time
async def change(request: web.Request) -> web.Response:
    """PATCH: merge-patch the subscription's name, endpoint, filter, payload level or status."""
    ctx = context(request)
    current = visible_subscription(request)
    patch = await read_json(request)
    if not isinstance(patch, dict):
        raise invalid("", "a merge patch must be a JSON object")
    base = subscription_to_document(current, include_secret=True)
    form = {k: base[k] for k in ("name", "endpoint", "filter", "payload_level", "status")}
    disabled = current.status.state is SubscriptionState.DISABLED
    if disabled and "status" not in patch:
        # A client cannot ask for "disabled"; leaving the status alone keeps it.
        del form["status"]
    parsed = await _validated(request, _merge_patch(form, patch))
    updated = parsed.to_subscription(
        current.id, current.owner, ctx.clock(), created_at=current.created_at
    )
    if disabled and "status" not in patch:
        updated = replace(updated, status=current.status)
    await ctx.subscriptions.put(updated)
    await record(
        request,
        "subscription.change",
        "CHANGED",
        200,
        subscription_id=current.id,
        criteria={**_criteria(updated), "patched": sorted(patch)},
    )
    return json_response(public_document(request, updated, show_secret=parsed.secret_generated))


@one_at_a_time
async def delete(request: web.Request) -> web.Response:
    """DELETE: remove the subscription and its CPR-number list (204)."""
    ctx = context(request)
    subscription = visible_subscription(request)
    members = ctx.subscriptions.members(subscription.id)
    await ctx.subscriptions.delete(subscription.id)
    await record(
        request,
        "subscription.delete",
        "DELETED",
        204,
        subscription_id=subscription.id,
        pnrs=outcomes(members, "REMOVED"),
        criteria=_criteria(subscription),
    )
    return web.Response(status=204)
