"""``/v1/subscriptions/{id}/pnrs``: a subscription's CPR-number list, with SF6002 answers.

* ``PUT .../pnrs/{pnr}``: 201 ``ADDED``, 200 ``ALREADY_EXISTED``, or 404
  ``NON_EXISTING_PNR`` when the replica holds a full load and not this person;
* ``DELETE .../pnrs/{pnr}``: 200 ``REMOVED`` or 404 ``NOT_SUBSCRIBED``;
* ``GET .../pnrs``: the list in ascending order, a page at a time (cursor);
* ``DELETE .../pnrs``: everything off the list;
* ``POST .../pnrs:batch`` ``{"add": [...], "remove": [...]}``: an answer per
  item, adds first and then removes, each in order (so a number added twice
  answers ``ADDED`` then ``ALREADY_EXISTED``). At most
  ``max_batch_items`` items per call (413 above); one malformed number
  refuses the whole call (422) and nothing is written.

A PNR must be 10 digits whose first six are a real date under the century
rule; modulus 11 is not required.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web

from cprbroker.adapters.known_persons import is_non_existing
from cprbroker.api.context import (
    context,
    json_response,
    one_at_a_time,
    read_json,
    record,
    visible_subscription,
)
from cprbroker.api.problems import bad_parameter, invalid, too_large
from cprbroker.core.audit import PnrOutcome, outcomes
from cprbroker.core.cpr.pnr import is_valid_pnr
from cprbroker.core.subscriptions.json_fields import as_array, as_object, as_string, child

ADDED = "ADDED"
ALREADY_EXISTED = "ALREADY_EXISTED"
NON_EXISTING_PNR = "NON_EXISTING_PNR"
REMOVED = "REMOVED"
NOT_SUBSCRIBED = "NOT_SUBSCRIBED"

BASE = "/v1/subscriptions/{id}/pnrs"
_BATCH_FIELDS = frozenset({"add", "remove"})


def add_routes(router: web.UrlDispatcher) -> None:
    """Register the CPR-number list routes."""
    router.add_put(BASE + "/{pnr}", add_one, name="pnrs.add")
    router.add_delete(BASE + "/{pnr}", remove_one, name="pnrs.remove")
    router.add_get(BASE, list_page, name="pnrs.list")
    router.add_delete(BASE, remove_all, name="pnrs.remove_all")
    router.add_post(BASE + ":batch", batch, name="pnrs.batch")


@dataclass
class ListChanges:
    """The answers to a sequence of adds and removes, and the writes they need."""

    add_results: list[str] = field(default_factory=list)
    remove_results: list[str] = field(default_factory=list)
    to_add: list[str] = field(default_factory=list)
    to_remove: list[str] = field(default_factory=list)


def plan_changes(
    on_list: Callable[[str], bool],
    non_existing: Callable[[str], bool],
    add: Sequence[str],
    remove: Sequence[str],
) -> ListChanges:
    """SF6002 answers for ``add`` then ``remove`` applied in order to the list
    ``on_list`` describes, and the net records to write."""
    changes = ListChanges()
    pending: dict[str, bool] = {}

    def present(pnr: str) -> bool:
        return pending[pnr] if pnr in pending else on_list(pnr)

    for pnr in add:
        if present(pnr):
            changes.add_results.append(ALREADY_EXISTED)
        elif non_existing(pnr):
            changes.add_results.append(NON_EXISTING_PNR)
        else:
            changes.add_results.append(ADDED)
            pending[pnr] = True
    for pnr in remove:
        if present(pnr):
            changes.remove_results.append(REMOVED)
            pending[pnr] = False
        else:
            changes.remove_results.append(NOT_SUBSCRIBED)
    for pnr, wanted in pending.items():
        if wanted != on_list(pnr):
            (changes.to_add if wanted else changes.to_remove).append(pnr)
    return changes


def _path_pnr(request: web.Request) -> str:
    pnr = request.match_info["pnr"]
    if not is_valid_pnr(pnr):
        raise bad_parameter(
            "pnr",
            f"{pnr[:20]!r} is not a CPR number: 10 digits whose first six are a valid "
            "date under the century rule",
            status=422,
        )
    return pnr


def _result(result: str, status: int) -> web.Response:
    return json_response({"result": result}, status)


@one_at_a_time
async def add_one(request: web.Request) -> web.Response:
    """PUT: put one PNR on the list."""
    ctx = context(request)
    subscription = visible_subscription(request)
    pnr = _path_pnr(request)
    plan = plan_changes(
        lambda p: ctx.subscriptions.on_list(subscription.id, p),
        lambda p: is_non_existing(ctx.known_persons, p),
        [pnr],
        [],
    )
    answer = plan.add_results[0]
    status = {ADDED: 201, ALREADY_EXISTED: 200, NON_EXISTING_PNR: 404}[answer]
    await ctx.subscriptions.change_list(subscription.id, add=plan.to_add)
    await record(
        request,
        "pnrs.add",
        answer,
        status,
        subscription_id=subscription.id,
        pnrs=[PnrOutcome(pnr, answer)],
    )
    return _result(answer, status)


@one_at_a_time
async def remove_one(request: web.Request) -> web.Response:
    """DELETE: take one PNR off the list."""
    ctx = context(request)
    subscription = visible_subscription(request)
    pnr = _path_pnr(request)
    on_list = ctx.subscriptions.on_list(subscription.id, pnr)
    answer, status = (REMOVED, 200) if on_list else (NOT_SUBSCRIBED, 404)
    if on_list:
        await ctx.subscriptions.change_list(subscription.id, remove=[pnr])
    await record(
        request,
        "pnrs.remove",
        answer,
        status,
        subscription_id=subscription.id,
        pnrs=[PnrOutcome(pnr, answer)],
    )
    return _result(answer, status)


def _encode_cursor(after: int) -> str:
    return base64.urlsafe_b64encode(f"after:{after}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise bad_parameter("cursor", "is not a cursor this API gave out") from exc
    prefix, _, number = text.partition(":")
    if prefix != "after" or not number.isdigit() or len(number) > 10:
        raise bad_parameter("cursor", "is not a cursor this API gave out")
    return int(number)


def _limit(request: web.Request) -> int:
    settings = context(request).settings
    raw = request.query.get("limit")
    if raw is None:
        return settings.default_page_size
    if not raw.isdigit() or not 1 <= int(raw) <= settings.max_page_size:
        raise bad_parameter("limit", f"must be an integer 1..{settings.max_page_size}")
    return int(raw)


async def list_page(request: web.Request) -> web.Response:
    """GET: one page of the list, ascending; ``next_cursor`` is null on the last page."""
    ctx = context(request)
    subscription = visible_subscription(request)
    limit = _limit(request)
    cursor = request.query.get("cursor")
    after = _decode_cursor(cursor) if cursor else None
    page = ctx.subscriptions.page(subscription.id, after, limit)
    await record(
        request,
        "pnrs.list",
        "OK",
        200,
        subscription_id=subscription.id,
        pnrs=outcomes(page.pnrs, "READ"),
    )
    next_cursor = None if page.next_after is None else _encode_cursor(page.next_after)
    return json_response(
        {
            "pnrs": page.pnrs,
            "next_cursor": next_cursor,
            "total": ctx.subscriptions.list_size(subscription.id),
        }
    )


@one_at_a_time
async def remove_all(request: web.Request) -> web.Response:
    """DELETE all: empty the list; answers how many were removed."""
    ctx = context(request)
    subscription = visible_subscription(request)
    members = ctx.subscriptions.members(subscription.id)
    await ctx.subscriptions.clear(subscription.id)
    await record(
        request,
        "pnrs.remove_all",
        REMOVED,
        200,
        subscription_id=subscription.id,
        pnrs=outcomes(members, REMOVED),
    )
    return json_response({"result": REMOVED, "removed": len(members)})


def _batch_items(body: object, limit: int) -> tuple[list[str], list[str]]:
    document = as_object(body, "", _BATCH_FIELDS)
    if not document:
        raise invalid("", 'give "add", "remove" or both')
    lists: dict[str, list[object]] = {}
    for key in ("add", "remove"):
        if key in document:
            # The size limit is 413, checked below over both lists together.
            lists[key] = as_array(document[key], f"/{key}", max_items=10**9)
    total = sum(len(items) for items in lists.values())
    if total > limit:
        raise too_large(f"{total} items in one batch; at most {limit} allowed")
    validated: dict[str, list[str]] = {"add": [], "remove": []}
    for key, items in lists.items():
        for index, item in enumerate(items):
            at = child(f"/{key}", index)
            pnr = as_string(item, at, max_length=20)
            if not is_valid_pnr(pnr):
                raise invalid(
                    at,
                    f"{pnr!r} is not a CPR number: 10 digits whose first six are a valid "
                    "date under the century rule",
                )
            validated[key].append(pnr)
    return validated["add"], validated["remove"]


@one_at_a_time
async def batch(request: web.Request) -> web.Response:
    """POST :batch: add and remove many PNRs, answering per item."""
    ctx = context(request)
    subscription = visible_subscription(request)
    add, remove = _batch_items(await read_json(request), ctx.settings.max_batch_items)
    plan = plan_changes(
        lambda p: ctx.subscriptions.on_list(subscription.id, p),
        lambda p: is_non_existing(ctx.known_persons, p),
        add,
        remove,
    )
    await ctx.subscriptions.change_list(subscription.id, add=plan.to_add, remove=plan.to_remove)
    items = [
        *(PnrOutcome(p, r) for p, r in zip(add, plan.add_results, strict=True)),
        *(PnrOutcome(p, r) for p, r in zip(remove, plan.remove_results, strict=True)),
    ]
    await record(request, "pnrs.batch", "OK", 200, subscription_id=subscription.id, pnrs=items)
    return json_response(
        {
            "add": [{"pnr": p, "result": r} for p, r in zip(add, plan.add_results, strict=True)],
            "remove": [
                {"pnr": p, "result": r} for p, r in zip(remove, plan.remove_results, strict=True)
            ],
        }
    )
