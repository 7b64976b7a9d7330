"""The subscription API around in-memory fakes of its stores, for service tests.

Several :class:`FakeApi` built on one :class:`FakeTopics` behave like several
API processes on one Kafka cluster: they see each other's writes, and a new
one rebuilds its state from the topics.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient, TestServer

from cprbroker.adapters.audit_log import InMemoryAuditTrail
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.known_persons import InMemoryKnownPersons
from cprbroker.adapters.state_store import Apply, InMemoryStateLog, InMemoryTopic, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.api.app import build_app
from cprbroker.api.callbacks import CallbackCheck
from cprbroker.api.context import ApiContext
from cprbroker.api.settings import ApiSettings
from cprbroker.core.delivery.callback_url import IpAddress
from cprbroker.core.errors import CallbackUrlError
from cprbroker.core.topics import TopicNames

EVENT_TYPES = frozenset(
    {
        "cpr.person.moved",
        "cpr.person.died",
        "cpr.person.name_changed",
        "cpr.person.protection_changed",
    }
)

# Host names the fake resolver knows; everything else does not resolve.
HOSTS: dict[str, list[str]] = {
    "hooks.example.dk": ["93.184.216.34"],
    "internal.example.dk": ["10.1.2.3"],
    "mixed.example.dk": ["93.184.216.34", "192.168.1.10"],
    "localhost": ["127.0.0.1"],
}


async def fake_resolver(host: str, port: int) -> list[IpAddress]:
    """Resolve from :data:`HOSTS` without DNS."""
    if host not in HOSTS:
        raise CallbackUrlError(f"callback host {host!r} does not resolve")
    return [ipaddress.ip_address(a) for a in HOSTS[host]]


@dataclass
class FakeTopics:
    """The compacted topics of one fake cluster, plus its audit topic."""

    topics: dict[str, InMemoryTopic] = field(default_factory=dict)
    audit: InMemoryAuditTrail = field(default_factory=InMemoryAuditTrail)

    def open_log(self, topic: str, apply: Apply) -> StateLog:
        """A log of ``topic`` (created on first use) applying into ``apply``."""
        if topic not in self.topics:
            self.topics[topic] = InMemoryTopic(topic)
        return InMemoryStateLog(self.topics[topic], apply)


@dataclass
class FakeApi:
    """One API process on fake topics, with an HTTP client."""

    http: TestClient[Any, Any]
    clients: ClientRegistry
    subscriptions: SubscriptionStore
    known: InMemoryKnownPersons

    async def token(self, name: str, **entitlements: Any) -> dict[str, str]:
        """Register client ``name``; the Authorization header for it."""
        _, token = await self.clients.create(name, **entitlements)
        return {"Authorization": f"Bearer {token}"}


@asynccontextmanager
async def fake_api(
    cluster: FakeTopics,
    *,
    settings: ApiSettings | None = None,
    known: InMemoryKnownPersons | None = None,
) -> AsyncIterator[FakeApi]:
    """An API app over ``cluster`` served by aiohttp's test server."""
    settings = settings or ApiSettings(callback_allow_cidrs=("127.0.0.0/8",))
    clients = ClientRegistry(cluster.open_log, settings.topics.clients)
    store = SubscriptionStore(cluster.open_log, TopicNames())
    for log in (clients.log, *store.logs):
        await log.start()
    known = known or InMemoryKnownPersons()
    ctx = ApiContext(
        settings=settings,
        clients=clients,
        subscriptions=store,
        known_persons=known,
        audit=cluster.audit,
        callbacks=CallbackCheck(settings.callback_allow_cidrs, fake_resolver),
        known_event_types=EVENT_TYPES,
    )
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(ctx)))
    await client.start_server()
    try:
        yield FakeApi(client, clients, store, known)
    finally:
        await client.close()
        for log in (clients.log, *store.logs):
            await log.stop()


def subscription_body(**changes: Any) -> dict[str, Any]:
    """A valid create request, with ``changes`` merged in at the top level."""
    body: dict[str, Any] = {
        "name": "Flytninger til sagssystem",
        "endpoint": {"url": "https://hooks.example.dk/cpr"},
        "filter": {"municipalities": ["0101"], "pnr_list": True},
    }
    body.update(changes)
    return body
