"""The delivery processes under test in the delivery benchmark: their
settings and environment, starting them, and waiting until they consume."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import aiohttp
from aiokafka.admin import AIOKafkaAdminClient

from cprbroker.core.topics import TopicNames
from cprbroker.delivery.settings import DeliverySettings

CONCURRENCY_PER_SUBSCRIPTION = 8
CONNECTIONS_PER_HOST = 64

_TOPICS = ("events", "subscriptions", "subscription_pnrs", "clients", "deliveries",
           "deliveries_dlq", "delivery_attempts", "audit")  # fmt: skip


def settings_for(bootstrap: str, run: str) -> DeliverySettings:
    names = TopicNames()
    topics = replace(names, **{f: f"bench.{run}.{getattr(names, f)}" for f in _TOPICS})
    return DeliverySettings(
        bootstrap_servers=bootstrap, topics=topics, group_id=f"bench.{run}", topic_partitions=6
    )


def role_environment(settings: DeliverySettings, metrics_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CPRBROKER_")}
    env.update(
        KAFKA_BOOTSTRAP_SERVERS=settings.bootstrap_servers,
        CPRBROKER_DELIVERY_GROUP=settings.group_id,
        CPRBROKER_CALLBACK_ALLOW_CIDRS="127.0.0.0/8",
        CPRBROKER_METRICS_PORT=str(metrics_port),
        CPRBROKER_DELIVERY_CONCURRENCY=str(CONCURRENCY_PER_SUBSCRIPTION),
        CPRBROKER_WEBHOOK_CONNECTIONS_PER_HOST=str(CONNECTIONS_PER_HOST),
    )
    env.update({f"CPRBROKER_TOPIC_{f.upper()}": getattr(settings.topics, f) for f in _TOPICS})
    return env


async def wait_ready(port: int, role: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if role.poll() is not None:
                raise RuntimeError(f"cprbroker delivery exited with {role.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.2)
    raise RuntimeError("cprbroker delivery did not become ready")


async def wait_for_group(bootstrap: str, group: str, members: int) -> None:
    """Return once consumer group ``group`` is stable with ``members`` members,
    so no rebalance falls into a measurement."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(600):
            (response,) = await admin.describe_consumer_groups([group])
            (_, _, state, _, _, joined, *_) = response.groups[0]
            if state == "Stable" and len(joined) == members:
                return
            await asyncio.sleep(0.2)
    finally:
        await admin.close()
    raise RuntimeError(f"consumer group {group} did not settle with {members} members")


def start_role(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``cprbroker delivery`` as a process of its own (its log discarded)."""
    command = [sys.executable, "-m", "cprbroker.cli", "delivery"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # Fields 14 and 15 of stat(5), counted from the state after the command name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
