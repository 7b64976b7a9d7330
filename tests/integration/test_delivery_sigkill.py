"""SIGKILL of ``cprbroker delivery`` in the middle of 10,000 events, then a
restart: every (subscription, event) still arrives at least once, counted at
the receivers by ``webhook-id``; duplicates carry the same id. Then SIGTERM
drains the restarted process and it exits 0.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from tests.integration.delivery_support import delivery_settings, state_writer
from tests.service.delivery_harness import (
    Receiver,
    eventually,
    make_event,
    make_subscription,
    serve_receiver,
)

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.local_kafka_process import kill_when_parent_dies
from cprbroker.core.delivery.cloudevents import webhook_message_id
from cprbroker.delivery.runner import delivery_topic_specs
from cprbroker.delivery.settings import DeliverySettings

pytestmark = pytest.mark.slow

EVENTS = 10_000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def environment(settings: DeliverySettings, metrics_port: int) -> dict[str, str]:
    """The settings as the environment of ``cprbroker delivery``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPRBROKER_")}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": settings.bootstrap_servers,
            "CPRBROKER_DELIVERY_GROUP": settings.group_id,
            "CPRBROKER_RETRY_LADDER": "1s,2s",
            "CPRBROKER_SHORT_RETRY_WINDOW": "1s",
            "CPRBROKER_CALLBACK_ALLOW_CIDRS": "127.0.0.0/8",
            "CPRBROKER_METRICS_PORT": str(metrics_port),
            "CPRBROKER_TOPIC_PARTITIONS": str(settings.topic_partitions),
            "CPRBROKER_DRAIN_TIMEOUT": "10s",
        }
    )
    for field in (
        "events",
        "subscriptions",
        "subscription_pnrs",
        "clients",
        "deliveries",
        "deliveries_dlq",
        "delivery_attempts",
        "audit",
    ):
        env[f"CPRBROKER_TOPIC_{field.upper()}"] = getattr(settings.topics, field)
    return env


@contextmanager
def delivery_process(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``cprbroker delivery`` as a child process (killed if the test dies)."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "cprbroker.cli", "delivery"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=kill_when_parent_dies,  # noqa: PLW1509 - no threads started yet
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


async def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            assert process.poll() is None, f"cprbroker delivery exited with {process.returncode}"
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.3)
    raise AssertionError("cprbroker delivery did not become ready")


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver(keep_bodies=False) as served:
        yield served


@pytest.mark.timeout(900)  # 20,000 deliveries on a shared 2-core machine
async def test_sigkill_mid_stream_loses_no_delivery(
    kafka_bootstrap: str, receiver: Receiver, tmp_path: Path
) -> None:
    settings = delivery_settings(kafka_bootstrap)
    await ensure_topics(kafka_bootstrap, delivery_topic_specs(settings))
    events = [make_event(n) for n in range(EVENTS)]
    async with state_writer(settings) as state:
        subscriptions = [
            await state.subscribe(make_subscription(receiver.url(f"/s{i}"))) for i in range(2)
        ]
    expected = {webhook_message_id(s.id, e.id) for s in subscriptions for e in events}
    port = free_port()
    env = environment(settings, port)
    log = tmp_path / "delivery.log"

    with delivery_process(env, log) as first:
        await wait_ready(port, first)
        codec = default_codec()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all", linger_ms=20)
        await producer.start()
        try:
            for event in events:
                await producer.send(
                    settings.topics.events, key=event.pnr.encode(), value=codec.encode(event)
                )
            await producer.flush()
        finally:
            await producer.stop()
        # Kill it somewhere in the middle: after a fair share has arrived.
        await eventually(lambda: len(receiver.ids()) >= len(expected) // 3, timeout=180)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    at_kill = len(receiver.ids())
    assert at_kill < len(expected), "the kill came too late to prove anything"

    with delivery_process(env, log) as second:
        await wait_ready(port, second)
        await eventually(lambda: receiver.ids() >= expected, timeout=300, interval=0.5)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0, log.read_text()[-3000:]

    received = receiver.ids()
    assert received == expected
    duplicates = len(receiver.arrivals) - len(received)
    print(
        f"{len(expected)} deliveries, {at_kill} before the kill, "
        f"{duplicates} duplicates after the restart (same webhook-id)"
    )
    assert "delivery.stopped" in log.read_text()
