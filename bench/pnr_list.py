"""Benchmark: a CPR-number list of a million PNRs through the API on Kafka.

Adds ``--pnrs`` numbers to one subscription with ``POST .../pnrs:batch`` (10,000
per call, as a client would), then restarts the API and measures how long it
takes to rebuild the list from the compacted topic and how much the process
grew. Beside each figure it prints a baseline measured in the same run on the
same broker: producing the same records with a bare aiokafka producer, and
consuming them with a bare consumer; and the ratio of the times.

Needs a Kafka broker: ``--bootstrap-servers`` or ``KAFKA_BOOTSTRAP_SERVERS``
(``cprbroker kafka start`` prints one). Every topic it creates has a fresh
name; every CPR number is synthetic (a valid date, never a real person's).

    python bench/pnr_list.py              # 1,000,000 PNRs
    python bench/pnr_list.py --small      # 20,000 PNRs (run by the tests)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import aiohttp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.api.runner import ApiRunner, start_api
from cprbroker.api.settings import ApiSettings
from cprbroker.core.subscriptions import parse_subscription_request
from cprbroker.core.topics import TopicNames, TopicSpec
from cprbroker.logs import configure_logging

BATCH = 10_000


def synthetic_pnrs(count: int) -> Iterator[str]:
    """``count`` distinct numbers: every day from 1 Jan 1900 on, serials 0000-3999."""
    day = dt.date(1900, 1, 1)
    for index in range(count):
        serial = index % 4000
        if index and serial == 0:
            day += dt.timedelta(days=1)
        yield f"{day:%d%m%y}{serial:04d}"


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


@dataclass
class Figures:
    pnrs: int
    baseline_produce_s: float
    api_add_s: float
    baseline_consume_s: float
    rebuild_s: float
    rebuild_growth_mb: float


async def baseline(bootstrap: str, pnrs: list[str]) -> tuple[float, float]:
    """Bare producer and bare consumer on a fresh compacted topic: (produce s, consume s)."""
    topic = f"bench.pnr-list.baseline.{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [TopicSpec(topic, 6, True, None)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2)
    await producer.start()
    try:
        started = time.perf_counter()
        for start in range(0, len(pnrs), BATCH):
            futures = [
                await producer.send(topic, key=f"subscription:{p}".encode(), value=b"1")
                for p in pnrs[start : start + BATCH]
            ]
            await asyncio.gather(*futures)
        produce_s = time.perf_counter() - started
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        started = time.perf_counter()
        seen = 0
        while seen < len(pnrs):
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(records) for records in batches.values())
        consume_s = time.perf_counter() - started
    finally:
        await consumer.stop()
    return produce_s, consume_s


async def through_the_api(settings: ApiSettings, pnrs: list[str]) -> tuple[float, float, float]:
    """Add ``pnrs`` over HTTP, restart, rebuild: (add s, rebuild s, RSS growth MB)."""
    api = await start_api(settings)
    try:
        await api.wait_ready()
        _, token = await api.state.clients.create("bench")
        request = parse_subscription_request(
            {"name": "bench", "endpoint": {"url": "https://93.184.216.34/"}, "filter": {}},
            known_event_types=(),
        )
        subscription = request.to_subscription("bench-list", "bench", dt.datetime.now(dt.UTC))
        await api.state.subscriptions.put(subscription)
        add_s = await _add(api, token, pnrs)
    finally:
        await api.stop()
    before = rss_mb()
    started = time.perf_counter()
    api = await start_api(settings)
    try:
        await api.wait_ready()
        rebuild_s = time.perf_counter() - started
        growth = rss_mb() - before
        size = api.state.subscriptions.list_size("bench-list")
        if size != len(pnrs):
            raise SystemExit(f"rebuilt list has {size} PNRs, expected {len(pnrs)}")
        first = api.state.subscriptions.page("bench-list", None, 10).pnrs
        if first != sorted(pnrs)[:10]:
            raise SystemExit("the rebuilt list does not page in order")
    finally:
        await api.stop()
    return add_s, rebuild_s, growth


async def _add(api: ApiRunner, token: str, pnrs: list[str]) -> float:
    headers = {"Authorization": f"Bearer {token}"}
    url = "/v1/subscriptions/bench-list/pnrs:batch"
    async with aiohttp.ClientSession(base_url=api.url) as http:
        started = time.perf_counter()
        for start in range(0, len(pnrs), BATCH):
            response = await http.post(
                url, json={"add": pnrs[start : start + BATCH]}, headers=headers
            )
            if response.status != 200:
                raise SystemExit(f"batch answered {response.status}: {await response.text()}")
        return time.perf_counter() - started


def settings_for(bootstrap: str) -> ApiSettings:
    run = uuid.uuid4().hex[:8]
    topics = replace(
        TopicNames(),
        subscriptions=f"bench.pnr-list.{run}.subscriptions",
        subscription_pnrs=f"bench.pnr-list.{run}.subscription-pnrs",
        clients=f"bench.pnr-list.{run}.clients",
        audit=f"bench.pnr-list.{run}.audit",
    )
    return ApiSettings(
        port=0,
        bootstrap_servers=bootstrap,
        topics=topics,
        known_pnrs_topic=f"bench.pnr-list.{run}.known-pnrs",
    )


async def measure(bootstrap: str, count: int) -> Figures:
    pnrs = list(synthetic_pnrs(count))
    produce_s, consume_s = await baseline(bootstrap, pnrs)
    add_s, rebuild_s, growth = await through_the_api(settings_for(bootstrap), pnrs)
    return Figures(count, produce_s, add_s, consume_s, rebuild_s, growth)


def report(figures: Figures) -> str:
    n = figures.pnrs
    return "\n".join(
        [
            f"input: {n:,} PNRs on one subscription",
            f"baseline (bare producer):       {n / figures.baseline_produce_s:>12,.0f} records/s",
            f"API pnrs:batch (10,000 a call): {n / figures.api_add_s:>12,.0f} PNRs/s",
            f"ratio API/baseline time: {figures.api_add_s / figures.baseline_produce_s:.2f}x",
            f"baseline (bare consumer):       {n / figures.baseline_consume_s:>12,.0f} records/s",
            f"API restart, list rebuilt:      {n / figures.rebuild_s:>12,.0f} PNRs/s"
            f"  ({figures.rebuild_s:.1f} s)",
            f"ratio rebuild/baseline time: {figures.rebuild_s / figures.baseline_consume_s:.2f}x",
            f"process growth while rebuilding: {figures.rebuild_growth_mb:.0f} MB",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pnrs", type=int, default=1_000_000)
    parser.add_argument("--small", action="store_true", help="20,000 PNRs")
    parser.add_argument("--bootstrap-servers", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    args = parser.parse_args(argv)
    if not args.bootstrap_servers:
        print("give --bootstrap-servers or set KAFKA_BOOTSTRAP_SERVERS", file=sys.stderr)
        return 2
    count = 20_000 if args.small else args.pnrs
    configure_logging()  # to stderr: stdout carries the figures
    print(report(asyncio.run(measure(args.bootstrap_servers, count))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
