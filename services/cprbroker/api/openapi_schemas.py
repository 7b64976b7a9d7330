"""The schemas of the OpenAPI document (:mod:`cprbroker.api.openapi`): request
and response bodies, written to match the validation in
:mod:`cprbroker.core.subscriptions` and the handlers' answers."""

from __future__ import annotations

from typing import Any

_STRING_SET = {"type": "array", "minItems": 1, "maxItems": 1000, "uniqueItems": False}
_CODE4 = {"type": "string", "pattern": "^[0-9]{4}$"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def problem(description: str) -> dict[str, Any]:
    """An OpenAPI response: problem+json with ``description``."""
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ref("Problem")}},
    }


def json_body(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI response (or request body): application/json of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SCHEMAS: dict[str, Any] = {
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
            "endpoint": ref("EndpointRequest"),
            "filter": ref("Filter"),
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
            "filter": ref("Filter"),
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
        "properties": {"subscriptions": {"type": "array", "items": ref("Subscription")}},
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
            "add": {"type": "array", "items": ref("BatchItem")},
            "remove": {"type": "array", "items": ref("BatchItem")},
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
