"""The Kafka ``cprbroker run`` and ``cprbroker demo`` work on: the one named by
``KAFKA_BOOTSTRAP_SERVERS``, else the project's local single-node broker.

A broker already running in the state folder (``cprbroker kafka start``) is
used and left running. Otherwise one is started, tied to this process (on
Linux the kernel kills it if this process dies without stopping it), and
stopped by its PID on :meth:`KafkaLease.release`.

Call these from the main thread: the kernel's "kill when the parent dies"
watches the thread that started the broker.
"""

from __future__ import annotations

import contextlib
import shutil
from dataclasses import dataclass
from pathlib import Path

import structlog

from cprbroker.adapters.local_kafka import broker_status, start_broker, stop_broker
from cprbroker.adapters.local_kafka_jars import fetch_jars
from cprbroker.adapters.local_kafka_process import stop_pid
from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings
from cprbroker.core.errors import LocalKafkaError

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class KafkaLease:
    """A Kafka to work on, and whether this process started it (and must stop it)."""

    bootstrap_servers: str
    local: LocalKafkaSettings | None = None
    started_pid: int | None = None

    def release(self) -> None:
        """Stop the broker if this process started it; otherwise leave it be."""
        if self.local is None or self.started_pid is None:
            return
        result = stop_broker(self.local)
        log.info("run.kafka_stopped", pid=self.started_pid, result=result)


def external(bootstrap_servers: str) -> KafkaLease:
    """A lease on a Kafka someone else runs."""
    return KafkaLease(bootstrap_servers)


def local_kafka(settings: LocalKafkaSettings, *, fresh: bool = False) -> KafkaLease:
    """The local broker of ``settings.state_dir``: the running one, or a new one.

    ``fresh`` first stops a broker of that folder and deletes its data, so the
    run starts on an empty Kafka (the demo's own folder, never the
    developer's). Fetches the jars if they are missing. Raises LocalKafkaError.
    """
    if fresh:
        _wipe(settings)
    else:
        status = broker_status(settings, probe_timeout_s=5.0)
        if status.running and status.answering and status.state is not None:
            log.info("run.kafka_reused", bootstrap=status.state.bootstrap_servers)
            return KafkaLease(status.state.bootstrap_servers, settings, None)
    fetch_jars(settings)  # a no-op once `make setup` has fetched them
    started: list[int] = []
    try:
        state = start_broker(settings, die_with_parent=True, on_started=started.append)
    except BaseException:
        # start_broker stops a broker that failed to start, but not one whose
        # start was interrupted (Ctrl-C while waiting for readiness).
        for pid in started:
            with contextlib.suppress(LocalKafkaError):
                stop_pid(pid, settings.stop_timeout_s)
        raise
    log.info("run.kafka_started", pid=state.pid, bootstrap=state.bootstrap_servers)
    return KafkaLease(state.bootstrap_servers, settings, state.pid)


def _wipe(settings: LocalKafkaSettings) -> None:
    stop_broker(settings)
    folder: Path = settings.state_dir
    if folder.exists():
        shutil.rmtree(folder)
