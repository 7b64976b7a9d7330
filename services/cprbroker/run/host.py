"""Every role in one process: processor, delivery, API and the inbox watcher,
sharing one event loop (the processor's faust app runs without faust's own
worker, see :mod:`cprbroker.processor.runner`).

Start order: the API first (it listens at once and loads its state in the
background), then the processor and delivery (consumers of what ingest
produces), and the inbox watcher last, so nothing is taken in before there
is something to process it.

Stop order (drain), the reverse: the inbox watcher stops taking files (a file
being published is finished, or cancelled after the drain deadline: it is
then not recorded, and published again on the next start); the processor
finishes the batch in hand and commits; delivery lets running deliveries
finish and commits; the API stops serving. Whatever was not committed is
done again on the next start, with the same event and delivery ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field

import structlog

from cprbroker.api.runner import ApiRunner, start_api
from cprbroker.delivery.runner import DeliveryRunner, start_delivery
from cprbroker.ingest.inbox import InboxStatus, watch_inbox
from cprbroker.processor.runner import ProcessorRunner, start_processor
from cprbroker.run.settings import RunSettings

log = structlog.get_logger(__name__)


class RoleFailedError(Exception):
    """A hosted role stopped by itself; the message says which and why."""


@dataclass
class RunningRoles:
    """The roles running in this process."""

    settings: RunSettings
    api: ApiRunner
    processor: ProcessorRunner
    delivery: DeliveryRunner
    inbox: InboxStatus
    _inbox_stop: asyncio.Event
    _inbox_task: asyncio.Task[None]
    _processor_stop: asyncio.Event = field(default_factory=asyncio.Event)
    _stopped: bool = False

    def failure(self) -> str | None:
        """Which role stopped by itself and why, or None while all run."""
        if self._inbox_task.done() and not self._inbox_task.cancelled():
            error = self._inbox_task.exception()
            return f"ingest: the inbox watcher stopped: {error or 'without an error'}"
        if (crash := self.processor.crashed) is not None:
            return f"processor: crashed: {crash}"
        if self.processor.processor.app.should_stop:
            return "processor: the faust app stopped"
        if not self.delivery.running:
            return "delivery: a stage stopped"
        return None

    async def wait(self, stop: asyncio.Event, *, poll: float = 0.5) -> None:
        """Return when ``stop`` is set; raise RoleFailedError when a role fails first."""
        while not stop.is_set():
            if (failure := self.failure()) is not None:
                raise RoleFailedError(failure)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)

    async def stop(self) -> None:
        """Drain every role (module docstring: the order)."""
        if self._stopped:
            return
        self._stopped = True
        log.info("run.stopping")
        self._inbox_stop.set()
        deadline = self.settings.delivery.drain_timeout
        done, _ = await asyncio.wait({self._inbox_task}, timeout=deadline)
        if not done:
            log.warning("run.ingest_cancelled", file=self.inbox.current)
            self._inbox_task.cancel()
        await asyncio.gather(self._inbox_task, return_exceptions=True)
        await _quietly("processor", self.processor.stop())
        await _quietly("delivery", self.delivery.stop())
        await _quietly("api", self.api.stop())
        log.info("run.stopped")


async def _quietly(role: str, stopping: Awaitable[None]) -> None:
    """Await a role's stop; a failure there is logged, and the others still stop."""
    try:
        await stopping
    except Exception as exc:  # noqa: BLE001 - one role failing to stop must not strand the rest
        log.error("run.stop_failed", role=role, error=str(exc))  # noqa: TRY400


async def start_roles(settings: RunSettings) -> RunningRoles:
    """Start every role on ``settings.bootstrap_servers``; return once all run.

    A role that cannot start stops the ones already started and raises its
    error (KafkaUnavailableError, CatalogueError, ...).
    """
    settings.consistent()
    began = time.monotonic()
    api = await start_api(settings.api)
    processor: ProcessorRunner | None = None
    delivery: DeliveryRunner | None = None
    try:
        processor = await start_processor(settings.processor)
        delivery = await start_delivery(settings.delivery)
        await api.wait_ready()
        inbox = InboxStatus()
        inbox_stop = asyncio.Event()
        inbox_task = asyncio.create_task(
            watch_inbox(settings.ingest, settings.inbox, inbox_stop, status=inbox),
            name="run:inbox",
        )
    except BaseException:
        if delivery is not None:
            await _quietly("delivery", delivery.stop())
        if processor is not None:
            await _quietly("processor", processor.stop())
        await _quietly("api", api.stop())
        raise
    log.info(
        "run.started",
        api=api.url,
        inbox=str(settings.inbox.root),
        metrics=delivery.metrics_url,
        seconds=round(time.monotonic() - began, 1),
    )
    return RunningRoles(settings, api, processor, delivery, inbox, inbox_stop, inbox_task)


async def run_roles(settings: RunSettings, stop: asyncio.Event) -> None:
    """Run every role until ``stop`` is set, then drain. Raises RoleFailedError
    (after stopping the rest) when a role fails."""
    roles = await start_roles(settings)
    try:
        await roles.wait(stop)
    finally:
        await roles.stop()
