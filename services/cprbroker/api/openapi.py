"""The OpenAPI 3.1 document of the API, served at ``/v1/openapi.json``.

It is written to match what the handlers do; a property-based test
(schemathesis) runs generated requests against a live server and checks every
answer against it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from cprbroker.api import delivery_openapi
from cprbroker.api.openapi_schemas import SCHEMAS, json_body, problem, ref

_COMMON_ERRORS = {
    "400": problem("A header or query parameter is malformed"),
    "401": problem("No bearer token, or an unknown one"),
    "403": problem("The client is revoked or not entitled"),
    "503": problem("The state is still loading, or Kafka is unreachable"),
}
_BODY_ERRORS = {
    "400": problem("The body is not JSON"),
    "413": problem("The body, or a list in it, is over the limit"),
    "415": problem("The body is not application/json"),
    "422": problem("A value in the body is wrong; `pointer` names it"),
}

_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_PNR = {
    "name": "pnr",
    "in": "path",
    "required": True,
    "description": "10 digits forming a valid date under the century rule (else 422)",
    "schema": {"type": "string"},
}
_ON_BEHALF_OF = {
    "name": "X-On-Behalf-Of",
    "in": "header",
    "required": False,
    "description": "The end user the calling system acts for (audited)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}


def _operation(
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    body_type: str = "application/json",
    errors: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_ON_BEHALF_OF, *(parameters or [])],
        "responses": {**_COMMON_ERRORS, **(errors or {}), **responses},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {body_type: {"schema": ref(body)}},
        }
        operation["responses"] = {**_BODY_ERRORS, **operation["responses"]}
    return operation


_NOT_FOUND = {"404": problem("No such subscription visible to this client")}
_PNR_ERRORS = {**_NOT_FOUND, "422": problem("The PNR is not a CPR number")}
_PAGE_PARAMETERS = [
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 10_000},
    },
    {"name": "cursor", "in": "query", "required": False, "schema": {"type": "string"}},
]

_PATHS: dict[str, Any] = {
    "/v1/subscriptions": {
        "post": _operation(
            "Create a subscription",
            {"201": json_body("Created (secret shown if generated)", ref("Subscription"))},
            body="SubscriptionRequest",
        ),
        "get": _operation(
            "List the caller's subscriptions (an admin's: all)",
            {"200": json_body("The subscriptions", ref("SubscriptionList"))},
            parameters=[
                {"name": "owner", "in": "query", "required": False, "schema": {"type": "string"}}
            ],
        ),
    },
    "/v1/subscriptions/{id}": {
        "get": _operation(
            "Read a subscription",
            {"200": json_body("The subscription", ref("Subscription"))},
            parameters=[_ID],
            errors=_NOT_FOUND,
        ),
        "patch": _operation(
            "Change a subscription (JSON merge patch)",
            {"200": json_body("The changed subscription", ref("Subscription"))},
            parameters=[_ID],
            body="SubscriptionPatch",
            body_type="application/merge-patch+json",
            errors=_NOT_FOUND,
        ),
        "delete": _operation(
            "Delete a subscription and its CPR-number list",
            {"204": {"description": "Deleted"}},
            parameters=[_ID],
            errors=_NOT_FOUND,
        ),
    },
    "/v1/subscriptions/{id}/pnrs": {
        "get": _operation(
            "Page through the CPR-number list (ascending)",
            {"200": json_body("One page", ref("PnrPage"))},
            parameters=[_ID, *_PAGE_PARAMETERS],
            errors=_NOT_FOUND,
        ),
        "delete": _operation(
            "Remove every CPR number from the list",
            {"200": json_body("Removed", ref("RemoveAllResponse"))},
            parameters=[_ID],
            errors=_NOT_FOUND,
        ),
    },
    "/v1/subscriptions/{id}/pnrs/{pnr}": {
        "put": _operation(
            "Add a CPR number (SF6002 AddPNRSubscription)",
            {
                "201": json_body("ADDED", ref("PnrResult")),
                "200": json_body("ALREADY_EXISTED", ref("PnrResult")),
                "404": {
                    "description": "NON_EXISTING_PNR, or no such subscription",
                    "content": {
                        "application/json": {"schema": ref("PnrResult")},
                        "application/problem+json": {"schema": ref("Problem")},
                    },
                },
            },
            parameters=[_ID, _PNR],
            errors=_PNR_ERRORS,
        ),
        "delete": _operation(
            "Remove a CPR number (SF6002 RemovePNRSubscription)",
            {
                "200": json_body("REMOVED", ref("PnrResult")),
                "404": {
                    "description": "NOT_SUBSCRIBED, or no such subscription",
                    "content": {
                        "application/json": {"schema": ref("PnrResult")},
                        "application/problem+json": {"schema": ref("Problem")},
                    },
                },
            },
            parameters=[_ID, _PNR],
            errors=_PNR_ERRORS,
        ),
    },
    "/v1/subscriptions/{id}/pnrs:batch": {
        "post": _operation(
            "Add and remove many CPR numbers, answering per item",
            {"200": json_body("Per-item answers", ref("BatchResponse"))},
            parameters=[_ID],
            body="BatchRequest",
            errors=_NOT_FOUND,
        ),
    },
}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "cprbroker subscription API",
            "version": "1",
            "description": "SF1320_A / SF6002-style subscriptions to CPR events. "
            "Errors are application/problem+json naming the bad field by JSON pointer.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {**SCHEMAS, **delivery_openapi.SCHEMAS},
        },
        "paths": {**_PATHS, **delivery_openapi.PATHS},
    }


_SERVED = json.dumps(document()).encode("utf-8")


async def serve(request: web.Request) -> web.Response:
    """GET /v1/openapi.json (no authentication needed)."""
    return web.Response(body=_SERVED, content_type="application/json")
