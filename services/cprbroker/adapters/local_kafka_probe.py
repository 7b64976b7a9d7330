"""Network checks of the local Kafka tooling: free ports and a metadata request.

A broker is ready when it answers a Kafka ``Metadata`` request with at least
one broker in it; an open TCP port alone is not enough (the socket server
accepts connections before the broker has joined its own quorum).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import socket
from collections.abc import Collection

from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from cprbroker.core.errors import LocalKafkaError

LOOPBACK = "127.0.0.1"


def choose_free_ports(count: int, *, exclude: Collection[int] = ()) -> list[int]:
    """``count`` distinct TCP ports on 127.0.0.1 that nothing listens on right now.

    All sockets are held open until every port is chosen, so the ports differ
    from each other; another process can still take one before the broker
    binds it, which the runner detects and answers by choosing again.
    """
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(sock)
            sock.bind((LOOPBACK, 0))
            port = int(sock.getsockname()[1])
            if port not in exclude and port not in ports:
                ports.append(port)
            if len(held) > count + 20:
                raise LocalKafkaError("could not find free TCP ports on 127.0.0.1")
    except OSError as exc:
        raise LocalKafkaError(f"could not find free TCP ports on 127.0.0.1: {exc}") from exc
    finally:
        for sock in held:
            sock.close()
    return ports


def port_open(port: int, host: str = LOOPBACK, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False


def parse_bootstrap_servers(bootstrap_servers: str) -> list[tuple[str, int]]:
    """``host:port`` pairs of a comma-separated bootstrap list (``[v6]:port`` allowed)."""
    pairs = []
    for raw in bootstrap_servers.split(","):
        entry = raw.strip()
        if not entry:
            continue
        host, sep, port = entry.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise LocalKafkaError(
                f"bootstrap server {entry!r} in {bootstrap_servers!r} is not host:port"
            )
        pairs.append((host.strip("[]"), int(port)))
    if not pairs:
        raise LocalKafkaError(f"no bootstrap server in {bootstrap_servers!r}")
    return pairs


def answers_metadata(bootstrap_servers: str, *, timeout_s: float = 5.0) -> bool:
    """Whether some server of ``bootstrap_servers`` answers a Metadata request naming a broker.

    Safe to call from synchronous code whether or not an event loop runs in
    this thread: the request runs on its own loop in a worker thread.
    """
    servers = parse_bootstrap_servers(bootstrap_servers)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _any_answers(servers, timeout_s)).result()


async def _any_answers(servers: list[tuple[str, int]], timeout_s: float) -> bool:
    for host, port in servers:
        try:
            brokers = await asyncio.wait_for(_broker_count(host, port, timeout_s), timeout_s)
        except (OSError, KafkaError, TimeoutError):
            continue
        if brokers > 0:
            return True
    return False


async def _broker_count(host: str, port: int, timeout_s: float) -> int:
    conn = await create_conn(
        host, port, client_id="cprbroker-probe", request_timeout_ms=int(timeout_s * 1000)
    )
    try:
        response = await conn.send(MetadataRequest([]))  # no topics: just the brokers
        return len(response.brokers)
    finally:
        closed = conn.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(closed, 1.0)
