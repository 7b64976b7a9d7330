"""API clients kept in the compacted clients topic (``cpr.clients``).

Key = client name, value = :meth:`ApiClient.to_json`. Every API process
materialises the topic into a :class:`~cprbroker.core.clients.ClientDirectory`,
so a client created with ``cprbroker clients create`` against Kafka can call
every API process, and a revocation reaches them all.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaProducer

from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.core.clients import (
    ApiClient,
    ClientDirectory,
    check_client_name,
    hash_token,
    issue_token,
)
from cprbroker.core.errors import ApiClientError
from cprbroker.core.topics import TopicSpec

log = structlog.get_logger(__name__)


class ClientRegistry:
    """Every API client, materialised from the clients topic, with writes."""

    def __init__(
        self,
        open_log: Callable[[str, Apply], StateLog],
        topic: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = ClientDirectory()
        self._clock = clock
        self._log = open_log(topic, self._apply)

    @property
    def log(self) -> StateLog:
        """The state log this registry follows (started and stopped by the owner)."""
        return self._log

    def _apply(self, key: bytes, value: bytes | None) -> None:
        name = key.decode("utf-8", errors="replace")
        if value is None:
            self.directory.apply(name, None)
            return
        try:
            client = ApiClient.from_json(value)
        except ApiClientError:
            log.warning("clients.bad_record", client=name)
            return
        self.directory.apply(name, client)

    async def create(
        self,
        name: str,
        *,
        event_types: Iterable[str] | None = None,
        protected_data: bool = False,
        admin: bool = False,
    ) -> tuple[ApiClient, str]:
        """Register client ``name``; return it and its bearer token (shown only now).

        Raises ApiClientError if the name is malformed or taken (revoked
        clients keep their name, so an old token can never come back to life).
        """
        check_client_name(name)
        if self.directory.get(name) is not None:
            raise ApiClientError(f"client {name!r} exists already")
        token = issue_token()
        client = ApiClient(
            name=name,
            token_sha256=hash_token(token),
            created_at=self._clock(),
            event_types=None if event_types is None else frozenset(event_types),
            protected_data=protected_data,
            admin=admin,
        )
        await self._log.write([(name.encode("utf-8"), client.to_json())])
        log.info("clients.created", client=name, admin=admin)
        return client, token

    async def revoke(self, name: str) -> ApiClient:
        """Revoke client ``name``; its token is refused from now on.

        Raises ApiClientError if there is no such client.
        """
        client = self.directory.get(name)
        if client is None:
            raise ApiClientError(f"no client called {name!r}")
        revoked = client.revoke(self._clock())
        await self._log.write([(name.encode("utf-8"), revoked.to_json())])
        log.info("clients.revoked", client=name)
        return revoked

    def authenticate(self, token: str) -> ApiClient | None:
        """The client holding ``token`` (possibly revoked), or None."""
        return self.directory.authenticate(token)

    def get(self, name: str) -> ApiClient | None:
        """The client called ``name``, or None."""
        return self.directory.get(name)

    def clients(self) -> list[ApiClient]:
        """Every client, by name."""
        return list(self.directory)


@asynccontextmanager
async def kafka_client_registry(
    bootstrap_servers: str, topic: str, *, partitions: int = 6
) -> AsyncIterator[ClientRegistry]:
    """A :class:`ClientRegistry` on Kafka, loaded, for the length of the block
    (what ``cprbroker clients`` uses). Creates the topic if it is missing."""
    await ensure_topics(bootstrap_servers, [TopicSpec(topic, partitions, True, None)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    await start_producer(producer, bootstrap_servers)
    try:
        registry = ClientRegistry(
            lambda name, apply: KafkaStateLog(bootstrap_servers, name, apply, producer), topic
        )
        await registry.log.start()
        try:
            yield registry
        finally:
            await registry.log.stop()
    finally:
        await producer.stop()
