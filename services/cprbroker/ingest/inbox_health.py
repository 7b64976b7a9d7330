"""The inbox watcher's endpoints, for probes and for the operator on call:

- ``/healthz``: 200 while the watcher makes progress; 503 once it has shown
  none (no scan begun, no person published) for the stall time, so that a
  watcher wedged on a file is restarted. A Kafka outage is not a stall: the
  watcher keeps scanning, and retrying, meanwhile.
- ``/readyz``: 200 while Kafka answers (connected, and the last scan met no
  Kafka failure); 503 before that, or while Kafka is away.
- ``/status``: what the watcher is doing, as JSON: files waiting, the file in
  hand and its persons so far, files processed and rejected, the last Kafka
  error, and the outcomes of the last 20 files (file names and reasons; no
  CPR number).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from cprbroker.adapters.health import HttpEndpoint, add_health_routes, serve_app
from cprbroker.ingest.inbox import InboxOutcome, InboxStatus
from cprbroker.ingest.inbox_layout import InboxSettings


def alive(status: InboxStatus, stall_seconds: float, now: float) -> bool:
    """Whether the watcher showed progress within ``stall_seconds`` of ``now``
    (before its first scan it is starting, and counts as alive)."""
    return status.progress_at is None or now - status.progress_at < stall_seconds


def ready(status: InboxStatus) -> bool:
    """Whether Kafka answers the watcher."""
    return status.connected and status.error is None


def status_document(status: InboxStatus, stall_seconds: float, now: float) -> dict[str, Any]:
    """``/status``: the watcher's state as JSON-ready values."""
    return {
        "alive": alive(status, stall_seconds, now),
        "ready": ready(status),
        "seconds_since_progress": (
            None if status.progress_at is None else round(now - status.progress_at, 1)
        ),
        "waiting": status.waiting,
        "current": status.current,
        "current_persons": status.current_persons,
        "persons_published": status.persons_published,
        "processed": status.processed,
        "rejected": status.rejected,
        "kafka_error": status.error,
        "recent": [_outcome(outcome) for outcome in status.recent],
    }


def _outcome(outcome: InboxOutcome) -> dict[str, Any]:
    return {
        "file": outcome.name,
        "full": outcome.full,
        "published": outcome.published,
        "rejection": outcome.rejection.value if outcome.rejection is not None else None,
        "message": outcome.message,
        "persons": outcome.persons,
        "refused_persons": outcome.refused_persons,
    }


def inbox_health_app(
    status: InboxStatus, settings: InboxSettings, clock: Callable[[], float] = time.monotonic
) -> web.Application:
    """``/healthz``, ``/readyz`` and ``/status`` of the watcher reporting into ``status``
    (``clock`` is the watcher's)."""
    app = web.Application()
    stall = settings.stall_seconds
    add_health_routes(app, alive=lambda: alive(status, stall, clock()), ready=lambda: ready(status))

    async def status_view(request: web.Request) -> web.Response:
        return web.json_response(status_document(status, stall, clock()))

    app.router.add_get("/status", status_view)
    return app


async def serve_inbox_health(
    status: InboxStatus, settings: InboxSettings, clock: Callable[[], float] = time.monotonic
) -> HttpEndpoint | None:
    """Serve :func:`inbox_health_app` as ``settings`` say (None: not served)."""
    if settings.health_port is None:
        return None
    app = inbox_health_app(status, settings, clock)
    return await serve_app(app, settings.health_host, settings.health_port)
