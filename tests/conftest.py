"""Fixtures shared by every test layer: a real Kafka broker for integration tests.

``kafka_bootstrap`` starts one single-node Kafka (KRaft) for the whole session,
in a temporary folder on free ports, and stops it by PID at the end. When
``KAFKA_BOOTSTRAP_SERVERS`` is set it uses that cluster and starts nothing.

If no broker can be had, integration tests are skipped locally; when ``CI`` is
set they fail instead, and any other skip of an integration test in CI is
turned into a failure too (a skipped integration test proves nothing).

No JVM outlives the session: the broker is stopped in the fixture's teardown,
again at interpreter exit if teardown never ran (Ctrl-C, an error), and on
Linux the kernel kills it when this process dies without running either
(SIGKILL, SIGTERM).
"""

from __future__ import annotations

import atexit
import os
import re
import uuid
from collections.abc import Awaitable, Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import NoReturn, Protocol

import pytest

from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.local_kafka import start_broker, stop_broker
from cprbroker.adapters.local_kafka_jars import fetch_jars
from cprbroker.adapters.local_kafka_probe import answers_metadata
from cprbroker.adapters.local_kafka_process import stop_pid
from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings
from cprbroker.core.errors import CprBrokerError
from cprbroker.core.topics import TopicSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"

# PIDs of brokers this session started and has not stopped yet.
_OWNED_PIDS: set[int] = set()


def in_ci() -> bool:
    """Whether the tests run in CI, where integration tests must run, never skip."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def kafka_unavailable(reason: str) -> NoReturn:
    """Skip the test locally; fail it in CI."""
    if in_ci():
        pytest.fail(f"Kafka unavailable in CI (CI={os.environ['CI']}): {reason}", pytrace=False)
    pytest.skip(f"Kafka unavailable: {reason}")


@atexit.register
def _stop_leftover_brokers() -> None:
    for pid in sorted(_OWNED_PIDS):
        try:
            stop_pid(pid, timeout_s=10.0)
        except CprBrokerError as exc:
            print(f"could not stop Kafka broker pid {pid}: {exc}")
    _OWNED_PIDS.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and in_ci()
        and item.get_closest_marker("integration") is not None
    ):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"integration test skipped in CI, which is an error: {reason}"
    return report


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a Kafka broker for this session (started here unless given)."""
    external = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if external:
        try:
            answering = answers_metadata(external, timeout_s=10.0)
        except CprBrokerError as exc:
            kafka_unavailable(f"{BOOTSTRAP_ENV}={external!r}: {exc}")
        if not answering:
            kafka_unavailable(f"{BOOTSTRAP_ENV}={external} does not answer a metadata request")
        yield external
        return
    try:
        settings = replace(
            LocalKafkaSettings.for_project(PROJECT_ROOT).with_environ(os.environ),
            state_dir=tmp_path_factory.mktemp("kafka"),
            port=0,  # never the developer's broker's port
            controller_port=0,
            quick_jit=True,  # starts in half the time; tests do not need peak throughput
        )
        fetch_jars(settings)  # a no-op after `make setup`
        state = start_broker(settings, die_with_parent=True, on_started=_OWNED_PIDS.add)
    except CprBrokerError as exc:
        failure = str(exc)
    else:
        failure = None
    if failure is not None:  # outside the except block: no chained traceback noise
        kafka_unavailable(f"could not start a local broker: {failure}")
    try:
        yield state.bootstrap_servers
    finally:
        stop_broker(settings)
        _OWNED_PIDS.discard(state.pid)


class TopicFactory(Protocol):
    """Creates a topic with a name unique to the calling test."""

    def __call__(
        self, stem: str = "topic", *, partitions: int = 1, compacted: bool = False
    ) -> Awaitable[str]: ...


@pytest.fixture
def new_topic(kafka_bootstrap: str, request: pytest.FixtureRequest) -> TopicFactory:
    """``await new_topic("orders", partitions=3)`` creates ``test.<test>.orders.<random>``."""
    test_name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)[:80].strip("-")

    async def create(stem: str = "topic", *, partitions: int = 1, compacted: bool = False) -> str:
        name = f"test.{test_name}.{stem}.{uuid.uuid4().hex[:8]}"
        await ensure_topics(
            kafka_bootstrap,
            [TopicSpec(name=name, partitions=partitions, compacted=compacted, retention_ms=None)],
        )
        return name

    return create
