"""Errors as ``application/problem+json`` (RFC 9457), naming the bad field by JSON pointer.

Every 4xx and 5xx of the API is a problem document::

    {"type": "https://cprbroker.dk/problems/validation", "title": "Invalid request",
     "status": 422, "detail": "/filter/age/min: must not be negative, got -1",
     "pointer": "/filter/age/min",
     "errors": [{"pointer": "/filter/age/min", "detail": "must not be negative, got -1"}]}

``pointer`` is the RFC 6901 pointer into the request body (``""`` = the whole
body); a problem with a header or a path segment names it in ``parameter``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiohttp import web

PROBLEM_JSON = "application/problem+json"
_TYPE_BASE = "https://cprbroker.dk/problems/"


class Problem(Exception):  # noqa: N818 - RFC 9457 calls it a problem, not an error
    """An HTTP error answer; raise it from a handler and the middleware renders it."""

    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        headers: Mapping[str, str] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.title = title
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})

    def document(self) -> dict[str, Any]:
        """The problem document."""
        document: dict[str, Any] = {
            "type": _TYPE_BASE + self.kind,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.pointer is not None:
            document["pointer"] = self.pointer
            document["errors"] = [{"pointer": self.pointer, "detail": self.detail}]
        if self.parameter is not None:
            document["parameter"] = self.parameter
        document.update(self.extra)
        return document

    def response(self) -> web.Response:
        """The HTTP response carrying the problem document."""
        return web.Response(
            status=self.status,
            body=json.dumps(self.document()).encode("utf-8"),
            content_type=PROBLEM_JSON,
            headers=self.headers,
        )


def invalid(pointer: str, detail: str) -> Problem:
    """422: the body is well-formed JSON but a value at ``pointer`` is wrong."""
    shown = f"{pointer}: {detail}" if pointer else detail
    return Problem(422, "validation", "Invalid request", shown, pointer=pointer)


def malformed(detail: str) -> Problem:
    """400: the body is not JSON at all."""
    return Problem(400, "malformed-json", "Malformed JSON", detail, pointer="")


def bad_parameter(parameter: str, detail: str, status: int = 400) -> Problem:
    """A query parameter, header or path segment is wrong."""
    return Problem(status, "bad-parameter", "Invalid parameter", detail, parameter=parameter)


def not_found(what: str) -> Problem:
    """404: nothing there, or nothing this client may see (the same answer, on purpose)."""
    return Problem(404, "not-found", "Not found", f"{what} not found")


def forbidden(detail: str, *, pointer: str | None = None) -> Problem:
    """403: the client is known but not allowed this."""
    return Problem(403, "forbidden", "Forbidden", detail, pointer=pointer)


def unauthorized(detail: str) -> Problem:
    """401: no usable bearer token."""
    return Problem(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="cprbroker"'},
    )


def too_large(detail: str, *, pointer: str | None = None) -> Problem:
    """413: the body, or a list in it, is over the limit."""
    return Problem(413, "too-large", "Payload too large", detail, pointer=pointer)


def unavailable(detail: str) -> Problem:
    """503: state not loaded yet, or Kafka not reachable; try again later."""
    return Problem(503, "unavailable", "Service unavailable", detail, headers={"Retry-After": "5"})
