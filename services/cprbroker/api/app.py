"""The aiohttp application: routes, authentication, problem documents, health.

:func:`build_app` wires an :class:`~cprbroker.api.context.ApiContext` into an
application; :mod:`cprbroker.api.runner` starts it on Kafka-backed ports.
Request logs name the route template, never the path: a path can carry a CPR
number, and CPR numbers go to the audit topic only.
"""

from __future__ import annotations

import re
import time
import traceback
import uuid
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web

from cprbroker.api import deliveries, openapi, pnr_lists, subscriptions
from cprbroker.api.context import (
    CLIENT,
    CONTEXT,
    ON_BEHALF_OF,
    REQUEST_ID,
    ApiContext,
    context,
    json_response,
    record,
)
from cprbroker.api.problems import (
    Problem,
    bad_parameter,
    forbidden,
    invalid,
    unauthorized,
    unavailable,
)
from cprbroker.core.audit import PnrOutcome
from cprbroker.core.errors import InfrastructureError, ValidationError

log = structlog.get_logger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/v1/openapi.json"})
# The query parameters each route understands; any other is refused (400), as
# unknown body fields are: a typo must not silently change what is asked.
_QUERY_PARAMETERS: dict[str, frozenset[str]] = {
    "subscription.list": frozenset({"owner"}),
    "pnrs.list": frozenset({"limit", "cursor"}),
    "deliveries.list": frozenset({"status", "since", "cursor", "limit"}),
}
_MAX_ON_BEHALF_OF = 255  # SF6002 InvocationContext OnBehalfOfUser
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


def _route_template(request: web.Request) -> str:
    route = request.match_info.route
    resource = route.resource
    return resource.canonical if resource is not None else "(unmatched)"


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Log each request by route template (never the path), with status and duration."""
    supplied = request.headers.get("X-Request-Id", "")
    request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
    request[REQUEST_ID] = request_id
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-Id"] = request_id
        return response
    finally:
        client = request.get(CLIENT)
        log.info(
            "api.request",
            method=request.method,
            route=_route_template(request),
            status=status,
            client=client.name if client is not None else None,
            request_id=request_id,
            ms=round((time.perf_counter() - started) * 1000, 1),
        )


@web.middleware
async def problems(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render every error as problem+json, and audit refused subscription calls."""
    try:
        return await handler(request)
    except Problem as problem:
        await _audit_refusal(request, problem)
        return problem.response()
    except ValidationError as exc:
        refusal = invalid(exc.pointer, exc.detail)
        await _audit_refusal(request, refusal)
        return refusal.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        title = exc.reason or "Error"
        return Problem(exc.status, "http", title, exc.text or title).response()
    except InfrastructureError as exc:
        log.warning("api.unavailable", error=type(exc).__name__, request_id=request.get(REQUEST_ID))
        return unavailable("the broker's state store is not reachable; try again").response()
    except Exception as exc:  # noqa: BLE001 - the last line: answer 500, never leak details
        # Only the type: a message or traceback could carry a CPR number from the request.
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else None
        log.error(  # noqa: TRY400 - no traceback: its message could name a CPR number
            "api.internal_error",
            error=type(exc).__name__,
            at=where,
            route=_route_template(request),
            request_id=request.get(REQUEST_ID),
        )
        detail = f"internal error; quote request id {request.get(REQUEST_ID)}"
        return Problem(500, "internal", "Internal server error", detail).response()


async def _audit_refusal(request: web.Request, problem: Problem) -> None:
    name = request.match_info.route.name
    if request.get(CLIENT) is None or name is None or name.startswith("meta."):
        return
    pnr = request.match_info.get("pnr")
    try:
        await record(
            request,
            name,
            problem.kind.upper().replace("-", "_"),
            problem.status,
            subscription_id=request.match_info.get("id"),
            pnrs=[PnrOutcome(pnr, "REFUSED")] if pnr else (),
            extra={"detail": problem.detail},
        )
    except InfrastructureError:
        log.warning("api.audit_failed", request_id=request.get(REQUEST_ID))


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Require ``Authorization: Bearer <token>`` on /v1 (401 none or unknown, 403 revoked)."""
    if request.path in _PUBLIC_PATHS or not request.path.startswith("/v1/"):
        return await handler(request)
    ctx = context(request)
    if not ctx.ready():
        raise unavailable("the API is still loading its state from Kafka")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("send Authorization: Bearer <token>")
    client = ctx.clients.authenticate(token.strip())
    if client is None:
        raise unauthorized("the bearer token is not known")
    if client.revoked:
        raise forbidden(f"client {client.name!r} has been revoked")
    request[CLIENT] = client
    on_behalf_of = request.headers.get("X-On-Behalf-Of")
    if on_behalf_of is not None:
        if not on_behalf_of.strip() or len(on_behalf_of) > _MAX_ON_BEHALF_OF:
            raise bad_parameter(
                "X-On-Behalf-Of", f"must be 1-{_MAX_ON_BEHALF_OF} characters naming the end user"
            )
        request[ON_BEHALF_OF] = on_behalf_of.strip()
    allowed = _QUERY_PARAMETERS.get(request.match_info.route.name or "", frozenset())
    for name in request.query:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            raise bad_parameter(name, f"unknown query parameter {name!r}; allowed here: {known}")
    return await handler(request)


async def healthz(request: web.Request) -> web.Response:
    """The process is alive."""
    return json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    """Whether the state has been read from Kafka (503 until then)."""
    if context(request).ready():
        return json_response({"status": "ready"})
    return json_response({"status": "loading"}, status=503)


def build_app(ctx: ApiContext) -> web.Application:
    """The API application over ``ctx``'s ports."""
    app = web.Application(
        middlewares=[access_log, problems, authenticate],
        client_max_size=ctx.settings.max_body_bytes,
    )
    app[CONTEXT] = ctx
    app.router.add_get("/healthz", healthz, name="meta.healthz")
    app.router.add_get("/readyz", readyz, name="meta.readyz")
    app.router.add_get("/v1/openapi.json", openapi.serve, name="meta.openapi")
    subscriptions.add_routes(app.router)
    pnr_lists.add_routes(app.router)
    deliveries.setup(app)
    return app
