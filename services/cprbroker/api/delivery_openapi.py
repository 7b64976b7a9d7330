"""The OpenAPI paths and schemas of the delivery routes (:mod:`.deliveries`),
merged into the API's document by :mod:`.openapi`."""

from __future__ import annotations

from typing import Any

from cprbroker.adapters.delivery_attempts import AttemptStatus
from cprbroker.api.openapi_schemas import json_body, problem, ref

RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
NULLABLE_STRING = {"type": ["string", "null"]}


_ERRORS = {
    "400": problem("A header or query parameter is malformed"),
    "401": problem("No bearer token, or an unknown one"),
    "403": problem("The client is revoked or not entitled"),
    "404": problem("No such subscription (or delivery) visible to this client"),
    "503": problem("The state is still loading, or Kafka is unreachable"),
}
_NOT_ACTIVE = {"409": problem("The subscription is paused or disabled")}
_BODY_ERRORS = {
    "413": problem("The body is over the limit"),
    "415": problem("The body is not application/json"),
    "422": problem("A value in the body is wrong; `pointer` names it"),
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_DELIVERY_ID = {"name": "delivery_id", "in": "path", "required": True, "schema": {"type": "string"}}
_ON_BEHALF_OF = {
    "name": "X-On-Behalf-Of",
    "in": "header",
    "required": False,
    "description": "The end user the calling system acts for (audited)",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}
_PAGE = [
    {
        "name": "status",
        "in": "query",
        "required": False,
        "schema": {"type": "string", "enum": [s.value for s in AttemptStatus]},
    },
    {
        "name": "since",
        "in": "query",
        "required": False,
        "description": "Entries from this time on (default: seven days ago)",
        "schema": {"type": "string", "pattern": RFC3339},
    },
    {
        "name": "cursor",
        "in": "query",
        "required": False,
        "description": "next_cursor of the previous page",
        "schema": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)?$"},
    },
    {
        "name": "limit",
        "in": "query",
        "required": False,
        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
]

_ATTEMPT_FIELDS = frozenset(
    {"at", "delivery_id", "event_id", "event_type", "attempt", "status", "stage"}
    | {"http_status", "latency_ms", "error", "next_attempt_at", "origin"}
)

SCHEMAS: dict[str, Any] = {
    "DeliveryAttempt": {
        "type": "object",
        "required": [
            "at",
            "delivery_id",
            "event_id",
            "event_type",
            "attempt",
            "status",
            "stage",
            "http_status",
            "latency_ms",
            "error",
            "next_attempt_at",
            "origin",
        ],
        "properties": {
            "at": {"type": "string"},
            "delivery_id": {"type": "string", "description": "The webhook-id"},
            "event_id": {"type": "string"},
            "event_type": {"type": "string"},
            "attempt": {"type": "integer", "minimum": 0},
            "status": {"type": "string", "enum": [s.value for s in AttemptStatus]},
            "stage": {"type": "string"},
            "http_status": {"type": ["integer", "null"]},
            "latency_ms": {"type": ["number", "null"]},
            "error": NULLABLE_STRING,
            "next_attempt_at": NULLABLE_STRING,
            "origin": {"type": "string"},
            "extra": {"type": "object"},
        },
    },
    "DeliveryPage": {
        "type": "object",
        "required": ["deliveries", "next_cursor"],
        "properties": {
            "deliveries": {"type": "array", "items": ref("DeliveryAttempt")},
            "next_cursor": NULLABLE_STRING,
        },
    },
    "Redelivery": {
        "type": "object",
        "required": ["delivery_id", "status"],
        "properties": {"delivery_id": {"type": "string"}, "status": {"const": "queued"}},
    },
    "ReplayRequest": {
        "type": "object",
        "additionalProperties": False,
        "required": ["since"],
        "properties": {"since": {"type": "string", "pattern": RFC3339}},
    },
    "Replay": {
        "type": "object",
        "required": ["since", "events_scanned", "deliveries_queued"],
        "properties": {
            "since": {"type": "string"},
            "events_scanned": {"type": "integer", "minimum": 0},
            "deliveries_queued": {"type": "integer", "minimum": 0},
        },
    },
    "Ping": {
        "type": "object",
        "required": ["delivery_id", "delivered", "http_status", "latency_ms", "error"],
        "properties": {
            "delivery_id": {"type": "string"},
            "delivered": {"type": "boolean"},
            "http_status": {"type": ["integer", "null"]},
            "latency_ms": {"type": "number"},
            "error": NULLABLE_STRING,
        },
    },
}


def _operation(
    summary: str,
    responses: dict[str, Any],
    parameters: list[dict[str, Any]],
    *,
    body: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [_ON_BEHALF_OF, *parameters],
        "responses": {**_ERRORS, **responses},
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
        operation["responses"] = {**_BODY_ERRORS, **operation["responses"]}
    return operation


PATHS: dict[str, Any] = {
    "/v1/subscriptions/{id}/deliveries": {
        "get": _operation(
            "Page through the attempt log (oldest first)",
            {"200": json_body("One page", ref("DeliveryPage"))},
            [_ID, *_PAGE],
        ),
    },
    "/v1/subscriptions/{id}/deliveries/{delivery_id}/redeliver": {
        "post": _operation(
            "Queue one delivery again (same webhook-id)",
            {"202": json_body("Queued", ref("Redelivery")), **_NOT_ACTIVE},
            [_ID, _DELIVERY_ID],
        ),
    },
    "/v1/subscriptions/{id}/replay": {
        "post": _operation(
            "Queue every event since a time that matches the subscription now",
            {"202": json_body("Queued", ref("Replay")), **_NOT_ACTIVE},
            [_ID],
            body="ReplayRequest",
        ),
    },
    "/v1/subscriptions/{id}/test": {
        "post": _operation(
            "Send a signed ping to the endpoint and report its answer",
            {"200": json_body("How the endpoint answered", ref("Ping"))},
            [_ID],
        ),
    },
}
