"""The baseline client of the delivery benchmark, as a process of its own: a
bare aiohttp client POSTing prepared, signed webhook requests to the receiver.

``bench/delivery.py`` starts as many of these as it runs delivery processes,
hands each its share of the requests in a JSON file, and lets them all start
at once:

    python bench/delivery_baseline.py REQUESTS.json
    stdin:  "go <start epoch> <rate>" per phase (rate 0 = all at once)
    stdout: "ready", then one JSON line of results per phase

The file holds ``{"concurrency": c, "phases": [[[n, url, headers, body], ...], ...]}``;
``n`` numbers a request across all the processes, so that at a rate request
``n`` is sent ``n / rate`` seconds after the start, wherever it is sent from.
A phase's result: when the process began and ended, the CPU seconds it spent,
and the send time of each ``webhook-id``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

from cprbroker.core.delivery.cloudevents import CPR_TIME_ZONE, webhook_message_id
from cprbroker.core.delivery.payload import PayloadLevel
from cprbroker.core.delivery.request import encode_delivery_body, sign_request
from cprbroker.core.delivery.signing import EndpointSecrets
from cprbroker.core.events.event import BusinessEvent
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.subscriptions import Subscription

SCRIPT = Path(__file__).resolve()
START_MARGIN = 0.5
"""Seconds between telling the clients to go and their common start."""


def signed_requests(
    subscriptions: Sequence[Subscription], events: Sequence[BusinessEvent], first: int
) -> list[list[Any]]:
    """``[n, url, headers, body]`` of each event, delivered to subscription
    ``(first + n) % len(subscriptions)`` as the role would deliver it (full
    payload, signed now)."""
    day = dt.datetime.now(tz=CPR_TIME_ZONE).date()
    made = []
    for n, event in enumerate(events):
        subscription = subscriptions[(first + n) % len(subscriptions)]
        body = encode_delivery_body(
            event_to_dict(event), PayloadLevel.FULL, may_see_protected=False, on=day
        )
        signed = sign_request(
            webhook_message_id(subscription.id, event.id),
            body,
            EndpointSecrets(subscription.endpoint.secret),
            time.time(),
        )
        made.append([n, subscription.endpoint.url, dict(signed.headers), body.decode("utf-8")])
    return made


class BaselineClients:
    """``processes`` baseline client processes, each with a share of every
    phase's requests (request ``n`` goes to process ``n % processes``)."""

    def __init__(self, phases: Sequence[list[list[Any]]], processes: int, concurrency: int) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="cprbroker-bench-")
        self._clients: list[subprocess.Popen[str]] = []
        for k in range(processes):
            path = Path(self._directory.name) / f"requests-{k}.json"
            shares = [items[k::processes] for items in phases]
            path.write_text(json.dumps({"concurrency": concurrency, "phases": shares}))
            self._clients.append(
                subprocess.Popen(
                    [sys.executable, str(SCRIPT), str(path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        for client in self._clients:
            if client.stdout is None or client.stdout.readline().strip() != "ready":
                raise RuntimeError("a baseline client did not start")

    def run(self, rate: float) -> list[dict[str, Any]]:
        """Run the next phase in every process from one start time (``rate`` 0:
        all at once); each process's result."""
        start = time.time() + START_MARGIN
        for client in self._clients:
            if client.stdin is None:
                raise RuntimeError("a baseline client has no stdin")
            client.stdin.write(f"go {start} {rate}\n")
            client.stdin.flush()
        results = []
        for client in self._clients:
            line = client.stdout.readline() if client.stdout is not None else ""
            if not line:
                raise RuntimeError(f"a baseline client exited with {client.wait()}")
            results.append(json.loads(line))
        late = max(result["began"] for result in results) - start
        if late > 0.1:
            raise RuntimeError(f"a baseline client began {late:.3f} s late")
        return results

    def close(self) -> None:
        """End the processes and remove their request files."""
        for client in self._clients:
            if client.stdin is not None:
                client.stdin.close()
        for client in self._clients:
            client.wait(timeout=30)
            if client.stdout is not None:
                client.stdout.close()
        self._directory.cleanup()


async def run_phase(
    http: aiohttp.ClientSession, items: list[Any], concurrency: int, start: float, rate: float
) -> dict[str, Any]:
    """Send ``items`` from epoch ``start``: all at once (``rate`` 0) with at
    most ``concurrency`` in flight, or request ``n`` at ``start + n / rate``."""
    gate = asyncio.Semaphore(concurrency)
    sent_at: dict[str, float] = {}

    async def post(url: str, headers: dict[str, str], body: bytes) -> None:
        async with gate:
            sent_at[headers["webhook-id"]] = time.time()
            async with http.post(url, data=body, headers=headers) as response:
                await response.read()

    await asyncio.sleep(max(0.0, start - time.time()))
    began, cpu_began = time.time(), time.process_time()
    tasks = []
    for n, url, headers, text in items:
        if rate > 0:
            ahead = start + n / rate - time.time()
            if ahead > 0:
                await asyncio.sleep(ahead)
        tasks.append(asyncio.create_task(post(url, headers, text.encode("utf-8"))))
    await asyncio.gather(*tasks)
    return {
        "began": began,
        "ended": time.time(),
        "cpu": time.process_time() - cpu_began,
        "sent_at": sent_at,
    }


async def serve(spec: dict[str, Any]) -> None:
    """Say ready, then run each phase of ``spec`` when told to."""
    concurrency = int(spec["concurrency"])
    loop = asyncio.get_running_loop()
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        # The requests are loaded and stay: out of the collector's sight, as
        # in the benchmark's publisher.
        gc.collect()
        gc.freeze()
        print("ready", flush=True)
        for items in spec["phases"]:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            _, start, rate = line.split()
            result = await run_phase(http, items, concurrency, float(start), float(rate))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(serve(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))))
