"""Running the processor inside an asyncio program: ``cprbroker processor``
and a future ``cprbroker run`` both use :func:`start_processor`.

The faust app runs in the caller's event loop, without faust's own worker
(which would take over the loop, the signal handlers and logging): the caller
owns signals and calls :meth:`ProcessorRunner.stop`, which stops intake,
lets the batch in hand finish, flushes the producer and commits the offsets
of what was done. Whatever was not committed is processed again on the next
start (its events again, with the same ids).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.adapters.event_publisher import EventRecords
from cprbroker.adapters.health import HttpEndpoint, serve_health
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.state_store import topic_partitions
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.topics import TopicSpec, topic_specs
from cprbroker.processor.app import Processor
from cprbroker.processor.batch import BatchDeriver
from cprbroker.processor.settings import ProcessorSettings

log = structlog.get_logger(__name__)


def processor_topic_specs(settings: ProcessorSettings) -> list[TopicSpec]:
    """The shared topics the processor reads and writes, as they must be created
    (faust creates its own internal topics)."""
    names = settings.topics
    wanted = {names.person_records, names.person_records_dlq, names.events}
    specs = [s for s in topic_specs(names, settings.partitions) if s.name in wanted]
    specs.append(TopicSpec(settings.known_pnrs_topic, settings.partitions, True, None))
    return specs


class ProcessorRunner:
    """A processor running in this event loop."""

    def __init__(self, processor: Processor) -> None:
        self.processor = processor
        self._stopped = False

    @property
    def crashed(self) -> BaseException | None:
        """Why the faust app crashed, or None while it is healthy."""
        reason: BaseException | None = self.processor.app.crash_reason
        return reason

    @property
    def ready(self) -> bool:
        """Whether the processor holds partitions, has recovered its tables
        and is not rebalancing: it is consuming."""
        app = self.processor.app
        return (
            self.crashed is None
            and not app.rebalancing
            and bool(app.consumer.assignment())
            and _recovered(app)
        )

    async def wait_ready(self, *, timeout: float = 300.0, poll: float = 0.2) -> None:
        """Return once :attr:`ready`; KafkaUnavailableError after ``timeout``
        seconds or if the app crashed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.ready:
            if self.crashed is not None:
                raise KafkaUnavailableError(f"processor crashed: {self.crashed}")
            if loop.time() > deadline:
                raise KafkaUnavailableError(f"processor not ready after {timeout:.0f} s")
            await asyncio.sleep(poll)

    async def wait(self, stop: asyncio.Event, *, poll: float = 0.5) -> None:
        """Return when ``stop`` is set or the app stopped or crashed by itself."""
        app = self.processor.app
        while not stop.is_set() and not app.should_stop and self.crashed is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)

    async def stop(self) -> None:
        """Drain and stop: the batch in hand finishes, the producer is flushed
        and offsets of finished work are committed."""
        if self._stopped:
            return
        self._stopped = True
        log.info("processor.stopping")
        try:
            await self.processor.app.stop()
        finally:
            await self.processor.stop_output()
        log.info("processor.stopped")


async def build_processor(settings: ProcessorSettings) -> Processor:
    """Create missing topics and build the processor for the partition count
    of ``cpr.person-records`` (CatalogueError for a bad event catalogue)."""
    catalogue = load_catalogue(settings.event_catalogue)
    deriver = BatchDeriver(catalogue, EventRecords(default_codec(), source=settings.event_source))
    if settings.create_topics:
        await ensure_topics(settings.bootstrap_servers, processor_topic_specs(settings))
    found = await topic_partitions(settings.bootstrap_servers, settings.topics.person_records)
    partitions = len(found)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Processor(settings, deriver, partitions=partitions)


async def start_processor(settings: ProcessorSettings) -> ProcessorRunner:
    """Build the processor and start it in this event loop."""
    processor = await build_processor(settings)
    runner = ProcessorRunner(processor)
    log.info("processor.starting", app_id=settings.app_id, store=settings.store)
    await processor.start_output()
    try:
        await processor.app.start()
    except BaseException:
        await processor.stop_output()
        raise
    return runner


async def run_processor(settings: ProcessorSettings, stop: asyncio.Event) -> int:
    """Run the processor until ``stop`` is set (then drain) or it crashes.
    Returns 0 after a requested stop, 1 after a crash."""
    runner = await start_processor(settings)
    health: HttpEndpoint | None = None
    try:
        if settings.health_port is not None:
            health = await serve_health(
                alive=lambda: runner.crashed is None,
                ready=lambda: runner.ready,
                host=settings.health_host,
                port=settings.health_port,
            )
            log.info("processor.health", url=health.url)
        ready = asyncio.create_task(runner.wait_ready())
        ready.add_done_callback(_report_ready)
        await runner.wait(stop)
        ready.cancel()
    finally:
        await runner.stop()
        if health is not None:
            await health.stop()
    if runner.crashed is not None:
        log.error("processor.crashed", error=str(runner.crashed))
        return 1
    return 0


def _report_ready(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    failure = task.exception()
    if failure is None:
        log.info("processor.ready")
    else:
        log.error("processor.not_ready", error=str(failure))


def _recovered(app: Any) -> bool:
    # The table manager's recovery service is not part of faust's typed API.
    return bool(app.tables.recovery.completed.is_set())
