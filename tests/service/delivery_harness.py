"""Test parts for the delivery role: synthetic events, real webhook receivers on
127.0.0.1, and the role's courier wired to in-memory fakes of its topics.

The receivers are real aiohttp servers: the role's HTTP sender talks real HTTP
to them (loopback is admitted by the test allow-list, as an operator would).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from cprbroker.core.events.event import BusinessEvent, DomainChange, event_id
from cprbroker.core.events.model import (
    Address,
    Domain,
    Name,
    PersonStatus,
    Protection,
    Snapshot,
)
from cprbroker.core.subscriptions import (
    CATCH_ALL,
    Endpoint,
    Filter,
    PayloadLevel,
    Subscription,
    SubscriptionStatus,
)

LOOPBACK_CIDRS = ("127.0.0.0/8", "::1/128")
SECRET = "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # 32 bytes, test only
OTHER_SECRET = "whsec_" + "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="


def synthetic_pnr(n: int) -> str:
    """A synthetic CPR number (day 61+ is never issued, so no real person has it)."""
    return f"{61 + n % 30:02d}01{70 + n % 30:02d}{n % 10_000:04d}"


def make_event(
    n: int,
    *,
    municipality: str = "0101",
    before: str = "0851",
    event_type: str = "cpr.person.moved",
    protected: bool = False,
    file_id: str = "907001-2024-03-05",
) -> BusinessEvent:
    """Event number ``n``: a person moving to ``municipality`` (synthetic data)."""
    pnr = synthetic_pnr(n)
    address = Address(
        municipality=municipality,
        road_code="1234",
        house_number="012",
        road_name="Testvej",
        city="Testby",
        postcode="9999",
    )
    protections = (Protection("0001", "2020-01-01", None),) if protected else ()
    snapshot = Snapshot(
        pnr=pnr,
        status=PersonStatus("01", "2024-03-04T15:36"),
        birth_date="1970-01-01",
        name=Name("Testa", None, f"Testesen{n}", None, "1970-01-01T00:00"),
        address=address,
        protections=protections,
    )
    return BusinessEvent(
        id=event_id(file_id, pnr, event_type, "A01", None),
        type=event_type,
        pnr=pnr,
        cpr_event_code="A01",
        derived_mark=None,
        occurred_at="2024-03-04T15:36",
        production_date="2024-03-05",
        file_id=file_id,
        municipality_before=before,
        municipality_after=municipality,
        change=DomainChange(Domain.ADDRESS, None, address),
        snapshot=snapshot,
        active_protections=protections,
    )


def make_subscription(
    url: str,
    *,
    owner: str = "sagssystem",
    filter_: Filter = CATCH_ALL,
    level: PayloadLevel = PayloadLevel.FULL,
    status: SubscriptionStatus | None = None,
    secret: str = SECRET,
    subscription_id: str | None = None,
) -> Subscription:
    """A subscription of ``owner`` sending to ``url``."""
    return Subscription(
        id=subscription_id or str(uuid.uuid4()),
        owner=owner,
        name="test",
        endpoint=Endpoint(url, secret),
        filter=filter_,
        payload_level=level,
        status=status or SubscriptionStatus(),
    )


@dataclass(frozen=True)
class Arrival:
    """One request a receiver got."""

    at: float
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def webhook_id(self) -> str:
        """The request's ``webhook-id``."""
        return self.headers.get("webhook-id", "")


Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]


def status(code: int, headers: dict[str, str] | None = None) -> Reply:
    """A reply with ``code`` (and headers)."""

    async def reply(request: web.Request) -> web.StreamResponse:
        return web.Response(status=code, headers=headers)

    return reply


def hang(seconds: float = 3600.0) -> Reply:
    """A reply that never comes (within ``seconds``)."""

    async def reply(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(seconds)
        return web.Response(status=200)

    return reply


@dataclass
class Receiver:
    """A webhook receiver. Each path answers from its script (one reply per
    request, in order) and then with its default (200)."""

    base: str = ""
    arrivals: list[Arrival] = field(default_factory=list)
    scripts: dict[str, list[Reply]] = field(default_factory=dict)
    defaults: dict[str, Reply] = field(default_factory=dict)
    keep_bodies: bool = True
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str = "/hook") -> str:
        """The URL of ``path`` on this receiver."""
        return f"{self.base}{path}"

    def script(self, path: str, replies: Iterable[Reply]) -> None:
        """Answer the next requests to ``path`` with ``replies``, in order."""
        self.scripts.setdefault(path, []).extend(replies)

    def default(self, path: str, reply: Reply) -> None:
        """Answer ``path`` with ``reply`` once its script is used up."""
        self.defaults[path] = reply

    def at(self, path: str) -> list[Arrival]:
        """The requests that reached ``path``."""
        return [a for a in self.arrivals if a.path == path]

    def ids(self, path: str | None = None) -> set[str]:
        """The distinct webhook-ids received (on ``path``, or anywhere)."""
        return {a.webhook_id for a in self.arrivals if path is None or a.path == path}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.arrivals.append(
            Arrival(
                time.time(),
                request.path,
                dict(request.headers),
                body if self.keep_bodies else b"",
            )
        )
        self.arrived.set()
        script = self.scripts.get(request.path)
        if script:
            return await script.pop(0)(request)
        reply = self.defaults.get(request.path)
        if reply is not None:
            return await reply(request)
        return web.Response(status=200)


@asynccontextmanager
async def serve_receiver(keep_bodies: bool = True) -> AsyncIterator[Receiver]:
    """A :class:`Receiver` listening on 127.0.0.1 (any free port)."""
    receiver = Receiver(keep_bodies=keep_bodies)
    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.base = f"http://127.0.0.1:{port}"
    try:
        yield receiver
    finally:
        await runner.cleanup()


async def eventually(
    check: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: last value {value!r}")
        await asyncio.sleep(interval)
