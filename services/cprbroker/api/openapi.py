"""The OpenAPI 3.1 document of the API, served at ``/v1/openapi.json``.

It is written to match what the handlers do; a property-based test
(schemathesis) runs generated requests against a live server and checks every
answer against it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

_STRING_SET = {"type": "array", "minItems": 1, "maxItems": 1000, "uniqueItems": False}
_CODE4 = {"type": "string", "pattern": "^[0-9]{4}$"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_COMMON_ERRORS = {
    "400": _problem("A header or query parameter is malformed"),
    "401": _problem("No bearer token, or an unknown one"),
    "403": _problem("The client is revoked or not entitled"),
    "503": _problem("The state is still loading, or Kafka is unreachable"),
}
_BODY_ERRORS = {
    "400": _problem("The body is not JSON"),
    "413": _problem("The body, or a list in it, is over the limit"),
    "415": _problem("The body is not application/json"),
    "422": _problem("A value in the body is wrong; `pointer` names it"),
}

_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "pointer": {"type": "string"},
            "parameter": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
                },
            },
        },
    },
    "Filter": {
        "type": "object",
        "additionalProperties": False,
        "description": "Criteria combine with AND, values within one with OR; {} is catch-all.",
        "properties": {
            "event_types": {**_STRING_SET, "items": {"type": "string"}},
            "cpr_event_codes": {
                **_STRING_SET,
                "items": {"type": "string", "pattern": "^[A-Z][0-9]{2}$"},
            },
            "pnr_list": {"type": "boolean"},
            "municipalities": {**_STRING_SET, "items": _CODE4},
            "age": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "min": {"type": "integer", "minimum": 0, "maximum": 999},
                    "max": {"type": "integer", "minimum": 0, "maximum": 999},
                },
            },
            "addresses": {
                **_STRING_SET,
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["municipality", "road_code"],
                    "properties": {
                        "municipality": _CODE4,
                        "road_code": _CODE4,
                        "house_number": {"type": "string", "pattern": "^[0-9]{1,3}[A-Za-z]?$"},
                    },
                },
            },
            "include_derived": {"type": "boolean", "default": True},
        },
    },
    "EndpointRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["url"],
        "properties": {
            "url": {"type": "string", "format": "uri", "maxLength": 2000},
            "secret": {
                "type": "string",
                "pattern": "^whsec_",
                "description": "Generated (and shown once) when left out.",
            },
        },
    },
    "SubscriptionRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "endpoint", "filter"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "endpoint": _ref("EndpointRequest"),
            "filter": _ref("Filter"),
            "payload_level": {"type": "string", "enum": ["full", "thin"], "default": "full"},
            "status": {"type": "string", "enum": ["active", "paused"], "default": "active"},
        },
    },
    "SubscriptionPatch": {
        "type": "object",
        "additionalProperties": False,
        "description": "A JSON merge patch (RFC 7386) over the request form; "
        "endpoint.secret: null rotates to a generated secret.",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "endpoint": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "url": {"type": "string", "format": "uri"},
                    "secret": {"type": ["string", "null"]},
                },
            },
            "filter": {"type": "object"},
            "payload_level": {"type": "string", "enum": ["full", "thin"]},
            "status": {"type": "string", "enum": ["active", "paused"]},
        },
    },
    "Subscription": {
        "type": "object",
        "required": [
            "id",
            "owner",
            "name",
            "endpoint",
            "filter",
            "payload_level",
            "status",
            "pnr_count",
        ],
        "properties": {
            "id": {"type": "string"},
            "owner": {"type": "string"},
            "name": {"type": "string"},
            "endpoint": {
                "type": "object",
                "required": ["url"],
                "properties": {
                    "url": {"type": "string"},
                    "secret": {"type": "string", "description": "Only when just generated."},
                },
            },
            "filter": _ref("Filter"),
            "payload_level": {"type": "string", "enum": ["full", "thin"]},
            "status": {"type": "string", "enum": ["active", "paused", "disabled"]},
            "disabled_reason": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "pnr_count": {"type": "integer", "minimum": 0},
        },
    },
    "SubscriptionList": {
        "type": "object",
        "required": ["subscriptions"],
        "properties": {"subscriptions": {"type": "array", "items": _ref("Subscription")}},
    },
    "PnrResult": {
        "type": "object",
        "required": ["result"],
        "properties": {
            "result": {
                "type": "string",
                "enum": [
                    "ADDED",
                    "ALREADY_EXISTED",
                    "NON_EXISTING_PNR",
                    "REMOVED",
                    "NOT_SUBSCRIBED",
                ],
            }
        },
    },
    "PnrPage": {
        "type": "object",
        "required": ["pnrs", "next_cursor", "total"],
        "properties": {
            "pnrs": {"type": "array", "items": {"type": "string", "pattern": "^[0-9]{10}$"}},
            "next_cursor": {"type": ["string", "null"]},
            "total": {"type": "integer", "minimum": 0},
        },
    },
    "BatchRequest": {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "properties": {
            "add": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "remove": {"type": "array", "minItems": 1, "items": {"type": "string"}},
        },
    },
    "BatchItem": {
        "type": "object",
        "required": ["pnr", "result"],
        "properties": {"pnr": {"type": "string"}, "result": {"type": "string"}},
    },
    "BatchResponse": {
        "type": "object",
        "required": ["add", "remove"],
        "properties": {
            "add": {"type": "array", "items": _ref("BatchItem")},
            "remove": {"type": "array", "items": _ref("BatchItem")},
        },
    },
    "RemoveAllResponse": {
        "type": "object",
        "required": ["result", "removed"],
        "properties": {
            "result": {"type": "string", "enum": ["REMOVED"]},
            "removed": {"type": "integer", "minimum": 0},
        },
    },
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
            "content": {body_type: {"schema": _ref(body)}},
        }
        operation["responses"] = {**_BODY_ERRORS, **operation["responses"]}
    return operation


_NOT_FOUND = {"404": _problem("No such subscription visible to this client")}
_PNR_ERRORS = {**_NOT_FOUND, "422": _problem("The PNR is not a CPR number")}
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
            {"201": _json("Created (secret shown if generated)", _ref("Subscription"))},
            body="SubscriptionRequest",
        ),
        "get": _operation(
            "List the caller's subscriptions (an admin's: all)",
            {"200": _json("The subscriptions", _ref("SubscriptionList"))},
            parameters=[
                {"name": "owner", "in": "query", "required": False, "schema": {"type": "string"}}
            ],
        ),
    },
    "/v1/subscriptions/{id}": {
        "get": _operation(
            "Read a subscription",
            {"200": _json("The subscription", _ref("Subscription"))},
            parameters=[_ID],
            errors=_NOT_FOUND,
        ),
        "patch": _operation(
            "Change a subscription (JSON merge patch)",
            {"200": _json("The changed subscription", _ref("Subscription"))},
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
            {"200": _json("One page", _ref("PnrPage"))},
            parameters=[_ID, *_PAGE_PARAMETERS],
            errors=_NOT_FOUND,
        ),
        "delete": _operation(
            "Remove every CPR number from the list",
            {"200": _json("Removed", _ref("RemoveAllResponse"))},
            parameters=[_ID],
            errors=_NOT_FOUND,
        ),
    },
    "/v1/subscriptions/{id}/pnrs/{pnr}": {
        "put": _operation(
            "Add a CPR number (SF6002 AddPNRSubscription)",
            {
                "201": _json("ADDED", _ref("PnrResult")),
                "200": _json("ALREADY_EXISTED", _ref("PnrResult")),
                "404": {
                    "description": "NON_EXISTING_PNR, or no such subscription",
                    "content": {
                        "application/json": {"schema": _ref("PnrResult")},
                        "application/problem+json": {"schema": _ref("Problem")},
                    },
                },
            },
            parameters=[_ID, _PNR],
            errors=_PNR_ERRORS,
        ),
        "delete": _operation(
            "Remove a CPR number (SF6002 RemovePNRSubscription)",
            {
                "200": _json("REMOVED", _ref("PnrResult")),
                "404": {
                    "description": "NOT_SUBSCRIBED, or no such subscription",
                    "content": {
                        "application/json": {"schema": _ref("PnrResult")},
                        "application/problem+json": {"schema": _ref("Problem")},
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
            {"200": _json("Per-item answers", _ref("BatchResponse"))},
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
            "schemas": _SCHEMAS,
        },
        "paths": _PATHS,
    }


_SERVED = json.dumps(document()).encode("utf-8")


async def serve(request: web.Request) -> web.Response:
    """GET /v1/openapi.json (no authentication needed)."""
    return web.Response(body=_SERVED, content_type="application/json")
