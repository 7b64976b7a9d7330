"""What one HTTP attempt at a webhook came to, in cprbroker's own words.

The HTTP adapter translates aiohttp/asyncio errors into :class:`ErrorKind` at
its boundary, so the retry policy never sees a third-party exception.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorKind(enum.Enum):
    """Why an attempt produced no usable final response."""

    TIMEOUT = "timeout"
    """No complete response within the per-request timeout."""
    CONNECT = "connect"
    """The TCP connection could not be made (refused, unreachable, reset)."""
    DNS = "dns"
    """The host name did not resolve."""
    TLS = "tls"
    """The TLS handshake or certificate check failed."""
    PROTOCOL = "protocol"
    """The peer broke HTTP: malformed response, disconnect mid-response."""
    REDIRECT = "redirect"
    """The endpoint answered 3xx; redirects are never followed."""
    ADDRESS_REFUSED = "address_refused"
    """The host resolved to an address the callback-URL policy forbids."""
    INVALID_URL = "invalid_url"
    """The URL itself cannot be used (scheme, host, syntax)."""


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """The result of one POST to a webhook endpoint.

    ``status`` is the HTTP status when a response arrived (also for 3xx, with
    ``error_kind`` REDIRECT), else ``None``. ``latency`` is seconds from the
    start of the attempt until the (capped) body was read or the error
    happened. ``retry_after`` is the parsed ``Retry-After`` in seconds from
    now, when the response carried a valid one.
    """

    status: int | None
    latency: float
    error_kind: ErrorKind | None = None
    retry_after: float | None = None
    detail: str = ""

    def __post_init__(self) -> None:
        if self.status is None and self.error_kind is None:
            raise ValueError("an attempt without a status must name its error kind")
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0, got {self.latency}")

    @property
    def succeeded(self) -> bool:
        """True when the endpoint answered 2xx."""
        return self.error_kind is None and self.status is not None and 200 <= self.status < 300
