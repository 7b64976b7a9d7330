"""Starting the API on Kafka: topics, state, HTTP server; and stopping it.

:func:`start_api` returns an :class:`ApiRunner` at once, listening, while the
state loads in the background (``/readyz`` says when it is done, and /v1
answers 503 until then); ``cprbroker api`` and ``cprbroker run`` both use it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from dataclasses import dataclass

import structlog
from aiohttp import web
from aiokafka import AIOKafkaProducer

from cprbroker.adapters.audit_log import KafkaAuditTrail
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.kafka_producer import start_producer
from cprbroker.adapters.known_persons import TopicKnownPersons
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.api.app import build_app
from cprbroker.api.callbacks import CallbackCheck, Resolver, resolve_host
from cprbroker.api.context import ApiContext
from cprbroker.api.settings import ApiSettings
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.topics import TopicSpec, topic_specs

log = structlog.get_logger(__name__)


def api_topic_specs(settings: ApiSettings) -> list[TopicSpec]:
    """The topics the API reads and writes, as they must be created."""
    names = settings.topics
    wanted = {names.subscriptions, names.subscription_pnrs, names.clients, names.audit}
    specs = [s for s in topic_specs(names, settings.topic_partitions) if s.name in wanted]
    specs.append(TopicSpec(settings.known_pnrs_topic, settings.topic_partitions, True, None))
    return specs


def new_producer(bootstrap_servers: str) -> AIOKafkaProducer:
    """The producer the API's state and audit writes share: every write acknowledged
    by all in-sync replicas before the call answers."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        acks="all",
        linger_ms=2,
        max_request_size=4 * 1024 * 1024,
    )


@dataclass
class KafkaState:
    """The Kafka-backed ports of one process, and the logs to start and stop."""

    producer: AIOKafkaProducer
    clients: ClientRegistry
    subscriptions: SubscriptionStore
    known_persons: TopicKnownPersons
    audit: KafkaAuditTrail
    logs: list[StateLog]

    def caught_up(self) -> bool:
        """Whether every log has applied what its topic held at start."""
        return all(log_.caught_up for log_ in self.logs)

    async def load(self) -> None:
        """Read every state topic up to its end (all at once: the indexes do not
        depend on the order)."""
        await asyncio.gather(*(log_.start() for log_ in self.logs))

    async def close(self) -> None:
        """Stop following the topics and flush the producer."""
        for log_ in reversed(self.logs):
            await log_.stop()
        await self.producer.stop()


async def open_kafka_state(settings: ApiSettings) -> KafkaState:
    """Connect to Kafka and build the stores (not yet loaded: call :meth:`KafkaState.load`)."""
    if settings.create_topics:
        await ensure_topics(settings.bootstrap_servers, api_topic_specs(settings))
    producer = new_producer(settings.bootstrap_servers)
    await start_producer(producer, settings.bootstrap_servers)

    def open_log(topic: str, apply: Apply) -> StateLog:
        return KafkaStateLog(settings.bootstrap_servers, topic, apply, producer)

    clients = ClientRegistry(open_log, settings.topics.clients)
    subscriptions = SubscriptionStore(open_log, settings.topics)
    known = TopicKnownPersons(open_log, settings.known_pnrs_topic)
    return KafkaState(
        producer=producer,
        clients=clients,
        subscriptions=subscriptions,
        known_persons=known,
        audit=KafkaAuditTrail(producer, settings.topics.audit),
        logs=[clients.log, *subscriptions.logs, known.log],
    )


class ApiRunner:
    """A running API: its URL, its state, and how to stop it."""

    def __init__(
        self, runner: web.AppRunner, state: KafkaState, loading: asyncio.Task[None]
    ) -> None:
        self._runner = runner
        self.state = state
        self._loading = loading

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self._runner.addresses[0][1])

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:8080``."""
        host = str(self._runner.addresses[0][0])
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def ready(self) -> bool:
        """Whether the state is loaded."""
        return self.state.caught_up()

    async def wait_ready(self) -> None:
        """Wait until the state is loaded; raise KafkaUnavailableError if loading failed."""
        await asyncio.shield(self._loading)

    async def stop(self) -> None:
        """Stop serving, then stop following the topics."""
        self._loading.cancel()
        with contextlib.suppress(asyncio.CancelledError, KafkaUnavailableError):
            await self._loading
        await self._runner.cleanup()
        await self.state.close()


async def start_api(
    settings: ApiSettings,
    *,
    known_event_types: Collection[str] | None = None,
    resolver: Resolver = resolve_host,
) -> ApiRunner:
    """Start the API on ``settings.host:port``; the state loads in the background.

    ``known_event_types`` defaults to the event types of ``settings.event_catalogue``
    (or the built-in catalogue). Raises CatalogueError for a bad catalogue and
    KafkaUnavailableError when Kafka cannot be reached.
    """
    if known_event_types is None:
        known_event_types = load_catalogue(settings.event_catalogue).event_types
    state = await open_kafka_state(settings)
    ctx = ApiContext(
        settings=settings,
        clients=state.clients,
        subscriptions=state.subscriptions,
        known_persons=state.known_persons,
        audit=state.audit,
        callbacks=CallbackCheck(settings.callback_allow_cidrs, resolver),
        known_event_types=frozenset(known_event_types),
        ready=state.caught_up,
    )
    runner = web.AppRunner(build_app(ctx), access_log=None, handle_signals=False)
    try:
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await state.close()
        raise
    loading = asyncio.create_task(state.load(), name="api:load-state")
    loading.add_done_callback(_report_loading)
    api = ApiRunner(runner, state, loading)
    log.info("api.listening", url=api.url)
    return api


def _report_loading(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    failure = task.exception()
    if failure is not None:
        log.error("api.state_load_failed", error=str(failure))
    else:
        log.info("api.ready")
