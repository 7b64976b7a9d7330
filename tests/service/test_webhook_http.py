"""The webhook sender against a real aiohttp server on the loopback interface."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.utils import format_datetime

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from standardwebhooks.webhooks import Webhook

from cprbroker.adapters.webhook_http import (
    WebhookHttpSettings,
    WebhookSender,
    check_callback_url,
)
from cprbroker.core.delivery.attempt import AttemptResult, ErrorKind
from cprbroker.core.delivery.callback_url import AddressPolicy
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import WebhookRequest, build_request
from cprbroker.core.delivery.retry import OutcomeKind, classify_attempt
from cprbroker.core.delivery.signing import EndpointSecrets, generate_secret
from cprbroker.core.errors import CallbackUrlError

LOOPBACK = AddressPolicy.from_cidrs(["127.0.0.0/8", "::1/128"])
STRICT = AddressPolicy()
SECRET = generate_secret()

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class Endpoint:
    """A receiving server; ``routes`` maps path to handler, ``seen`` logs hits."""

    base: str
    seen: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    written: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"


def _event() -> dict[str, object]:
    return {
        "id": "ev-1",
        "type": "dk.cprbroker.person.moved",
        "pnr": "0101709995",  # synthetic
        "occurred_at": "2024-05-31T10:00",
        "snapshot": {"name": {"first": "Testa"}},
    }


def _request() -> WebhookRequest:
    return build_request(
        _event(),
        subscription_id="sub-1",
        level=PayloadLevel.FULL,
        may_see_protected=False,
        secrets=EndpointSecrets(current=SECRET),
        now=time.time(),
    )


def _app(endpoint: Endpoint) -> web.Application:
    async def record(request: web.Request) -> None:
        endpoint.seen.append((request.path, dict(request.headers), await request.read()))

    async def ok(request: web.Request) -> web.Response:
        await record(request)
        body = endpoint.seen[-1][2]
        Webhook(SECRET).verify(body, endpoint.seen[-1][1])
        return web.Response(status=204)

    def status(code: int, headers: dict[str, str] | None = None) -> Handler:
        async def handler(request: web.Request) -> web.Response:
            await record(request)
            return web.Response(status=code, headers=headers, text="nope")

        return handler

    async def hang(request: web.Request) -> web.Response:
        await record(request)
        await endpoint.release.wait()
        return web.Response(status=200)

    async def drip(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse(status=200)
        await response.prepare(request)
        await response.write(b"x")
        await endpoint.release.wait()
        return response

    async def huge(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse(status=200)
        response.content_length = 200 * 1024 * 1024
        await response.prepare(request)
        chunk = b"y" * 65536
        endpoint.written["huge"] = 0
        try:
            for _ in range(200 * 16):
                await response.write(chunk)
                endpoint.written["huge"] += len(chunk)
        except (ConnectionError, RuntimeError):
            pass
        return response

    app = web.Application()
    app.router.add_post("/ok", ok)
    app.router.add_post("/fail", status(500))
    app.router.add_post("/gone", status(410))
    app.router.add_post("/slow-down", status(429, {"Retry-After": "7"}))
    later = format_datetime(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=90), usegmt=True)
    app.router.add_post("/unavailable", status(503, {"Retry-After": later}))
    app.router.add_post("/redirect", status(302, {"Location": "/ok"}))
    app.router.add_post("/hang", hang)
    app.router.add_post("/drip", drip)
    app.router.add_post("/huge", huge)
    return app


@asynccontextmanager
async def _serve(host: str) -> AsyncIterator[Endpoint]:
    bracketed = f"[{host}]" if ":" in host else host
    endpoint = Endpoint(base="")
    runner = web.AppRunner(_app(endpoint), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    port = runner.addresses[0][1]
    endpoint.base = f"http://{bracketed}:{port}"
    try:
        yield endpoint
    finally:
        endpoint.release.set()
        await runner.cleanup()


@pytest.fixture
async def endpoint() -> AsyncIterator[Endpoint]:
    async with _serve("127.0.0.1") as served:
        yield served


@pytest.fixture
async def sender() -> AsyncIterator[WebhookSender]:
    async with WebhookSender(LOOPBACK, WebhookHttpSettings(timeout=0.5)) as opened:
        yield opened


async def test_2xx_is_delivered_with_cloudevents_and_a_verifiable_signature(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    result = await sender.send(endpoint.url("/ok"), _request())
    assert result.status == 204
    assert result.error_kind is None
    assert result.latency > 0
    assert classify_attempt(result).kind is OutcomeKind.DELIVERED
    _, headers, body = endpoint.seen[0]
    assert headers["Content-Type"] == "application/cloudevents+json"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["User-Agent"].startswith("cprbroker")
    assert Webhook(SECRET).verify(body, headers)["subject"] == "0101709995"


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/fail", 500, OutcomeKind.RETRY),
        ("/gone", 410, OutcomeKind.DISABLE_SUBSCRIPTION),
        ("/nowhere", 404, OutcomeKind.RETRY),
    ],
)
async def test_error_statuses(
    endpoint: Endpoint, sender: WebhookSender, path: str, status: int, kind: OutcomeKind
) -> None:
    result = await sender.send(endpoint.url(path), _request())
    assert (result.status, result.error_kind, result.retry_after) == (status, None, None)
    assert classify_attempt(result).kind is kind


async def test_429_retry_after_seconds(endpoint: Endpoint, sender: WebhookSender) -> None:
    result = await sender.send(endpoint.url("/slow-down"), _request())
    assert (result.status, result.retry_after) == (429, 7.0)
    outcome = classify_attempt(result)
    assert (outcome.kind, outcome.retry_after) == (OutcomeKind.RETRY_AFTER, 7.0)


async def test_503_retry_after_http_date(endpoint: Endpoint, sender: WebhookSender) -> None:
    result = await sender.send(endpoint.url("/unavailable"), _request())
    assert result.status == 503
    assert result.retry_after is not None
    assert 80 <= result.retry_after <= 91


@pytest.mark.parametrize("path", ["/hang", "/drip"])
async def test_hanging_server_times_out(
    endpoint: Endpoint, sender: WebhookSender, path: str
) -> None:
    started = time.perf_counter()
    result = await sender.send(endpoint.url(path), _request())
    assert result.error_kind is ErrorKind.TIMEOUT
    assert result.status is None
    assert 0.4 <= result.latency < 3
    assert time.perf_counter() - started < 3
    assert classify_attempt(result).kind is OutcomeKind.RETRY


async def test_connection_refused(sender: WebhookSender) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = await sender.send(f"http://127.0.0.1:{port}/hook", _request())
    assert result.error_kind is ErrorKind.CONNECT
    assert result.status is None
    assert "Connect" in result.detail
    assert classify_attempt(result).kind is OutcomeKind.RETRY


async def test_redirect_is_not_followed(endpoint: Endpoint, sender: WebhookSender) -> None:
    result = await sender.send(endpoint.url("/redirect"), _request())
    assert (result.status, result.error_kind) == (302, ErrorKind.REDIRECT)
    assert [path for path, _, _ in endpoint.seen] == ["/redirect"]
    assert classify_attempt(result).kind is OutcomeKind.RETRY


async def test_huge_response_body_is_read_capped_and_discarded(endpoint: Endpoint) -> None:
    settings = WebhookHttpSettings(timeout=5.0, response_body_limit=64 * 1024)
    async with WebhookSender(LOOPBACK, settings) as sender:
        result = await sender.send(endpoint.url("/huge"), _request())
        assert (result.status, result.error_kind) == (200, None)
        # The pool is still healthy after dropping that connection.
        again = await sender.send(endpoint.url("/ok"), _request())
        assert again.status == 204
    for _ in range(100):
        if "huge" in endpoint.written and endpoint.seen:
            break
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    # Socket buffers take a few MiB; reading it all would have taken 200 MiB.
    assert endpoint.written["huge"] < 32 * 1024 * 1024


# -- hostile URLs ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("file:///etc/passwd", ErrorKind.INVALID_URL),
        ("http://169.254.169.254/latest/meta-data/", ErrorKind.ADDRESS_REFUSED),
        ("http://10.0.0.1/", ErrorKind.ADDRESS_REFUSED),
        ("http://[::1]/", ErrorKind.ADDRESS_REFUSED),
        ("http://127.0.0.1/", ErrorKind.ADDRESS_REFUSED),
        ("http://localhost/", ErrorKind.ADDRESS_REFUSED),
    ],
)
async def test_strict_sender_refuses_hostile_urls_without_connecting(
    url: str, kind: ErrorKind
) -> None:
    async with WebhookSender(STRICT, WebhookHttpSettings(timeout=2.0)) as sender:
        result = await sender.send(url, _request())
    assert result.error_kind is kind
    assert result.status is None


class StaticResolver(AbstractResolver):
    """Answers from a mutable table, as an attacker's DNS server might."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"{host} does not resolve")
        address = self.table[host]
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
        ]

    async def close(self) -> None:
        return None


async def test_dns_rebinding_to_loopback_is_refused_at_send_time(endpoint: Endpoint) -> None:
    port = endpoint.base.rsplit(":", 1)[1]
    resolver = StaticResolver({"hooks.example.test": "93.184.216.34"})
    url = f"http://hooks.example.test:{port}/ok"
    await check_callback_url(url, STRICT, resolver)  # accepted at subscription time
    resolver.table["hooks.example.test"] = "127.0.0.1"  # ... then rebound
    async with WebhookSender(STRICT, WebhookHttpSettings(timeout=2.0), resolver=resolver) as s:
        result = await s.send(url, _request())
    assert result.error_kind is ErrorKind.ADDRESS_REFUSED
    assert "loopback" in result.detail
    assert endpoint.seen == []
    assert resolver.asked[-1] == "hooks.example.test"


async def test_name_resolving_to_allow_listed_loopback_is_delivered(endpoint: Endpoint) -> None:
    port = endpoint.base.rsplit(":", 1)[1]
    resolver = StaticResolver({"hooks.example.test": "127.0.0.1"})
    async with WebhookSender(LOOPBACK, WebhookHttpSettings(timeout=2.0), resolver=resolver) as s:
        result = await s.send(f"http://hooks.example.test:{port}/ok", _request())
    assert result.status == 204


async def test_unresolvable_name_is_a_dns_error() -> None:
    resolver = StaticResolver({})
    async with WebhookSender(STRICT, WebhookHttpSettings(timeout=2.0), resolver=resolver) as s:
        result = await s.send("http://nowhere.example.test/", _request())
    assert result.error_kind is ErrorKind.DNS


async def test_ipv6_loopback_is_delivered_when_allow_listed() -> None:
    async with _serve("::1") as served:
        async with WebhookSender(LOOPBACK, WebhookHttpSettings(timeout=2.0)) as sender:
            result = await sender.send(served.url("/ok"), _request())
        assert result.status == 204
        assert served.base.startswith("http://[::1]:")


async def test_check_callback_url() -> None:
    resolver = StaticResolver({"hooks.example.test": "93.184.216.34", "evil.test": "10.1.2.3"})
    await check_callback_url("https://hooks.example.test/cpr", STRICT, resolver)
    await check_callback_url("https://[2a00:1450:4001:82b::200e]/", STRICT, resolver)
    await check_callback_url("http://localhost:8080/", LOOPBACK)
    refused = [
        ("file:///etc/passwd", "scheme 'file'"),
        ("https://evil.test/", "private address 10.1.2.3"),
        ("http://169.254.169.254/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://localhost/", "loopback"),
        ("https://missing.test/", "does not resolve"),
    ]
    for url, message in refused:
        with pytest.raises(CallbackUrlError) as info:
            await check_callback_url(url, STRICT, resolver if "test" in url else None)
        assert message in str(info.value), url


def test_attempt_result_is_plain_data() -> None:
    result = AttemptResult(status=200, latency=0.1)
    assert result.succeeded


async def test_https_to_a_plain_http_server_is_a_tls_failure(
    endpoint: Endpoint, sender: WebhookSender
) -> None:
    result = await sender.send(endpoint.url("/ok").replace("http://", "https://"), _request())
    assert result.error_kind is ErrorKind.TLS, result.detail
    assert endpoint.seen == []
