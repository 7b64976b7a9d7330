"""Signals of the hosting commands: the first SIGTERM or SIGINT drains, a second
one cuts the drain short."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Iterator

import structlog

log = structlog.get_logger(__name__)


@contextlib.contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[None]:
    """While in the block, SIGTERM and SIGINT set ``stop`` (drain); a second
    one cancels the task that entered the block."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()

    def signalled(signum: signal.Signals) -> None:
        if not stop.is_set():
            log.info("run.signal", signal=signum.name, action="drain")
            stop.set()
        elif task is not None:
            log.warning("run.signal", signal=signum.name, action="stop now")
            task.cancel()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled, signum)
    try:
        yield
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
