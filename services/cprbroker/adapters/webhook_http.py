"""The webhook HTTP sender: one POST per call, on a shared aiohttp session.

Every aiohttp/asyncio failure is translated here into an
:class:`~cprbroker.core.delivery.attempt.AttemptResult` carrying a
:class:`~cprbroker.core.delivery.attempt.ErrorKind`; nothing third-party leaks
out. Redirects are never followed. At most ``response_body_limit`` bytes of a
response are read, then discarded: subscribers cannot make us buffer a
gigabyte. The callback-URL address policy is enforced at connect time, by the
resolver, so a host that re-resolves to a private address (DNS rebinding)
after the subscription was accepted still cannot be reached.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from cprbroker.core.delivery.attempt import AttemptResult, ErrorKind
from cprbroker.core.delivery.callback_url import AddressPolicy, IpAddress, parse_callback_url
from cprbroker.core.delivery.request import WebhookRequest
from cprbroker.core.delivery.retry import parse_retry_after
from cprbroker.core.errors import CallbackUrlError

DEFAULT_TIMEOUT_SECONDS = 10.0
DEFAULT_RESPONSE_BODY_LIMIT = 64 * 1024
_READ_CHUNK = 16 * 1024
_CHECKED_URLS = 10_000
"""URLs whose check is remembered (forgotten all at once beyond this)."""


@dataclass(frozen=True, slots=True)
class WebhookHttpSettings:
    """How the sender talks HTTP; built once by the delivery role's settings."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    response_body_limit: int = DEFAULT_RESPONSE_BODY_LIMIT
    max_connections: int = 100
    max_connections_per_host: int = 8
    user_agent: str = "cprbroker-webhooks/0.1"


class AddressRefusedError(OSError):
    """A host resolved to an address the callback-URL policy refuses. An
    OSError, because aiohttp wraps resolver OSErrors in its connector errors."""

    def __init__(self, host: str, address: str, reason: str) -> None:
        super().__init__(f"{host} resolves to {reason} address {address}")
        self.host = host
        self.address = address
        self.reason = reason


def _address_of(result: ResolveResult) -> IpAddress:
    # A link-local IPv6 result may carry a zone ("fe80::1%eth0").
    return ipaddress.ip_address(result["host"].split("%", 1)[0])


class PolicyResolver(AbstractResolver):
    """Resolves with ``inner`` and refuses the whole answer if any address is
    refused by ``policy``: the connector may try any of them."""

    def __init__(self, policy: AddressPolicy, inner: AbstractResolver | None = None) -> None:
        self._policy = policy
        self._inner = inner if inner is not None else aiohttp.ThreadedResolver()
        self._owns_inner = inner is None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The inner resolver's answer, if every address in it is allowed."""
        results = await self._inner.resolve(host, port, family)
        for result in results:
            address = _address_of(result)
            reason = self._policy.refusal(address)
            if reason is not None:
                raise AddressRefusedError(host, str(address), reason)
        return results

    async def resolve_addresses(self, host: str) -> list[IpAddress]:
        """Every address ``host`` resolves to (IPv4 and IPv6), unchecked."""
        results = await self._inner.resolve(host, 0, socket.AF_UNSPEC)
        return [_address_of(result) for result in results]

    async def close(self) -> None:
        """Close the inner resolver if this one created it."""
        if self._owns_inner:
            await self._inner.close()


async def check_callback_url(
    url: str, policy: AddressPolicy, resolver: AbstractResolver | None = None
) -> None:
    """Return if ``url`` is an http(s) URL whose host resolves only to addresses
    ``policy`` allows; else raise CallbackUrlError naming the URL and the
    reason. For the API, when a subscription's endpoint is set."""
    callback = parse_callback_url(url)
    if callback.ip_literal is not None:
        policy.check_literal(callback)
        return
    checker = PolicyResolver(policy, resolver)
    try:
        addresses = await checker.resolve_addresses(callback.host)
    except OSError as exc:
        raise CallbackUrlError(f"callback URL {url!r}: host does not resolve ({exc})") from exc
    finally:
        await checker.close()
    policy.check_resolved(callback, addresses)


def _error_kind(exc: BaseException) -> ErrorKind:
    """cprbroker's name for an aiohttp/asyncio failure (order matters: subclasses first)."""
    if isinstance(exc, TimeoutError):  # also aiohttp.ServerTimeoutError
        return ErrorKind.TIMEOUT
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
        exc.os_error, AddressRefusedError
    ):
        return ErrorKind.ADDRESS_REFUSED
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return ErrorKind.DNS
    if isinstance(exc, aiohttp.ClientSSLError | aiohttp.ServerFingerprintMismatch):
        return ErrorKind.TLS
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return ErrorKind.INVALID_URL
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ClientOSError):
        return ErrorKind.CONNECT
    return ErrorKind.PROTOCOL


class WebhookSender:
    """POSTs signed webhook requests; one instance (one connection pool) per
    process. Use ``async with WebhookSender(...) as sender``."""

    def __init__(
        self,
        policy: AddressPolicy,
        settings: WebhookHttpSettings | None = None,
        *,
        resolver: AbstractResolver | None = None,
        wall_clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(tz=dt.UTC),
    ) -> None:
        self._policy = policy
        self._settings = settings or WebhookHttpSettings()
        self._inner_resolver = resolver
        self._wall_clock = wall_clock
        self._session: aiohttp.ClientSession | None = None
        self._resolver: PolicyResolver | None = None
        self._checked: dict[str, AttemptResult | URL] = {}

    async def __aenter__(self) -> WebhookSender:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the session and its connection pool (needs a running loop)."""
        if self._session is not None:
            return
        self._resolver = PolicyResolver(self._policy, self._inner_resolver)
        connector = aiohttp.TCPConnector(
            limit=self._settings.max_connections,
            limit_per_host=self._settings.max_connections_per_host,
            resolver=self._resolver,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            # No proxy or .netrc from the environment: settings come from the CLI.
            trust_env=False,
            # Subscribers get no cookie jar to plant state in.
            cookie_jar=aiohttp.DummyCookieJar(),
            headers={"user-agent": self._settings.user_agent},
            timeout=aiohttp.ClientTimeout(total=self._settings.timeout),
            auto_decompress=False,
        )

    async def close(self) -> None:
        """Close the session, its connections and the resolver."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
        if self._resolver is not None:
            resolver, self._resolver = self._resolver, None
            # The connector does not close a resolver it was handed.
            await resolver.close()

    async def send(self, url: str, request: WebhookRequest) -> AttemptResult:
        """POST ``request`` to ``url`` once and report how it went; never raises
        for anything the endpoint or the network does."""
        session = self._session
        if session is None:
            raise RuntimeError("WebhookSender.send() before start()")
        started = time.perf_counter()
        checked = self._checked.get(url)
        if checked is None:
            if len(self._checked) >= _CHECKED_URLS:
                self._checked.clear()
            checked = self._checked[url] = self._check(url)
        if isinstance(checked, AttemptResult):
            return checked
        try:
            return await self._post(session, checked, request, started)
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            kind = _error_kind(exc)
            detail = f"{type(exc).__name__}: {exc}".strip()
            if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(
                exc.os_error, AddressRefusedError
            ):
                detail = f"callback URL {url!r}: {exc.os_error}, which is not on the allow-list"
            return AttemptResult(None, time.perf_counter() - started, kind, detail=detail)

    def _check(self, url: str) -> AttemptResult | URL:
        """The result refusing ``url`` without sending, or the parsed URL to
        send to. The same for every request to ``url`` (the URL's syntax, and
        the policy on an IP literal), so it is worked out once per URL, and
        aiohttp is handed the same parsed URL each time (parsing a URL costs
        more than signing the request); a host name is checked afresh on
        every connect, by the resolver."""
        try:
            callback = parse_callback_url(url)
        except CallbackUrlError as exc:
            return AttemptResult(None, 0.0, ErrorKind.INVALID_URL, detail=str(exc))
        try:
            # aiohttp connects to IP literals without asking the resolver.
            self._policy.check_literal(callback)
        except CallbackUrlError as exc:
            return AttemptResult(None, 0.0, ErrorKind.ADDRESS_REFUSED, detail=str(exc))
        try:
            return URL(url)
        except (ValueError, TypeError) as exc:
            return AttemptResult(None, 0.0, ErrorKind.INVALID_URL, detail=str(exc))

    async def _post(
        self, session: aiohttp.ClientSession, url: URL, request: WebhookRequest, started: float
    ) -> AttemptResult:
        async with session.post(
            url, data=request.body, headers=request.headers, allow_redirects=False
        ) as response:
            truncated = await self._drain(response)
            if truncated:
                # Unread bytes remain: the connection cannot be reused.
                response.close()
            latency = time.perf_counter() - started
            retry_after_header = response.headers.get("retry-after")
            retry_after = (
                parse_retry_after(retry_after_header, self._wall_clock())
                if retry_after_header is not None
                else None
            )
            status = response.status
        if 300 <= status < 400:
            return AttemptResult(
                status, latency, ErrorKind.REDIRECT, retry_after, detail="redirect not followed"
            )
        return AttemptResult(status, latency, None, retry_after)

    async def _drain(self, response: aiohttp.ClientResponse) -> bool:
        """Read and discard up to the body limit; True if more was left unread."""
        remaining = self._settings.response_body_limit
        while remaining > 0:
            chunk = await response.content.read(min(_READ_CHUNK, remaining))
            if not chunk:
                return False
            remaining -= len(chunk)
        return not response.content.at_eof()
