"""Benchmark: webhook delivery, from an event published on Kafka to the webhook
received, with 1, 100 and 1,000 subscriptions.

For each subscription count, ``cprbroker delivery`` runs as its own process
against a receiver process on 127.0.0.1. Every subscription follows its own
PNR list and each event's person is on exactly one list, so every event makes
one delivery (matched among all the subscriptions). Two phases per count:

* throughput: ``--events`` events published at once; deliveries/s from the
  first publication to the last arrival;
* latency: events published at ``--rate`` events/s for ``--seconds``; p50 and
  p99 of publication (Kafka record time) to arrival at the receiver.

The baseline, in the same run against the same receiver, is a bare aiohttp
client POSTing the same signed bodies with the same concurrency (as many
connections as the role may open to one host): its deliveries/s, and its
latency from send to arrival at the same rate. The ratio is delivery/baseline.
Targets: throughput at least half the baseline's; p99 under 250 ms at 1,000
events/s.

    python bench/delivery.py --bootstrap HOST:PORT     # 1, 100, 1000 subscriptions
    python bench/delivery.py --small --bootstrap ...   # 1 and 10 subscriptions, seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import aiohttp
from aiokafka import AIOKafkaProducer

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.kafka_admin import ensure_topics
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.core.delivery.cloudevents import CPR_TIME_ZONE, webhook_message_id
from cprbroker.core.delivery.payload import PayloadLevel as BodyLevel
from cprbroker.core.delivery.request import WebhookRequest, encode_delivery_body, sign_request
from cprbroker.core.delivery.signing import EndpointSecrets, generate_secret
from cprbroker.core.events.event import BusinessEvent, DomainChange, event_id
from cprbroker.core.events.model import Address, Domain, Name, PersonStatus, Snapshot
from cprbroker.core.events.serial import event_to_dict
from cprbroker.core.subscriptions import Endpoint, Filter, Subscription
from cprbroker.core.topics import TopicNames
from cprbroker.delivery.runner import delivery_topic_specs
from cprbroker.delivery.settings import DeliverySettings

CONCURRENCY_PER_SUBSCRIPTION = 8
CONNECTIONS_PER_HOST = 64
OWNER = "bench"
RECEIVER_SCRIPT = Path(__file__).resolve().with_name("delivery_receiver.py")


# -- synthetic data ---------------------------------------------------------------


def pnr_of(n: int) -> str:
    """A distinct synthetic CPR number per ``n`` (days 61-90 are never issued)."""
    return f"{61 + n % 30:02d}{1 + (n // 30) % 12:02d}{(n // 360) % 100:02d}{n // 36000:04d}"


def event_of(n: int, run: str) -> BusinessEvent:
    """Synthetic event ``n``: a person moving within Copenhagen."""
    pnr = pnr_of(n)
    address = Address("0101", "1234", "012", road_name="Benchvej", city="Benchby", postcode="9999")
    snapshot = Snapshot(
        pnr=pnr,
        status=PersonStatus("01", "2024-03-04T15:36"),
        birth_date="1970-01-01",
        name=Name("Bench", None, f"Persen{n}", None, "1970-01-01T00:00"),
        address=address,
    )
    return BusinessEvent(
        id=event_id(f"bench-{run}", pnr, "cpr.person.moved", "A01", None),
        type="cpr.person.moved",
        pnr=pnr,
        cpr_event_code="A01",
        derived_mark=None,
        occurred_at="2024-03-04T15:36",
        production_date="2024-03-05",
        file_id=f"bench-{run}",
        municipality_before="0851",
        municipality_after="0101",
        change=DomainChange(Domain.ADDRESS, None, address),
        snapshot=snapshot,
    )


# -- the receiver -----------------------------------------------------------------


class Receiver:
    """The receiver process (``bench/delivery_receiver.py``), seen from the benchmark."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(RECEIVER_SCRIPT)],
            stdout=subprocess.PIPE,
        )
        if self._process.stdout is None:
            raise RuntimeError("the receiver process has no stdout")
        self.base = f"http://127.0.0.1:{int(self._process.stdout.readline())}"

    async def arrivals(self, http: aiohttp.ClientSession) -> list[tuple[str, float]]:
        async with http.get(self.base + "/arrivals") as response:
            return [(str(i), float(t)) for i, t in await response.json()]

    async def reset(self, http: aiohttp.ClientSession) -> None:
        async with http.post(self.base + "/reset"):
            pass

    async def wait_for(
        self, http: aiohttp.ClientSession, ids: set[str], timeout: float
    ) -> dict[str, float]:
        """First arrival time of each id in ``ids``, once all arrived."""
        deadline = time.monotonic() + timeout
        while True:
            # Counting is cheap; fetching every arrival only once enough came.
            async with http.get(self.base + "/count") as response:
                arrived = int(await response.text())
            if arrived < len(ids) and time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                continue
            first: dict[str, float] = {}
            for webhook_id, at in await self.arrivals(http):
                first.setdefault(webhook_id, at)
            if ids <= first.keys():
                return {i: first[i] for i in ids}
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(ids & first.keys())} of {len(ids)} arrived")
            await asyncio.sleep(0.25)

    def stop(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)
        if self._process.stdout is not None:
            self._process.stdout.close()


# -- one scenario --------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """What one subscription count measured."""

    subscriptions: int
    events: int
    delivered_per_s: float
    baseline_per_s: float
    p50: float
    p99: float
    baseline_p50: float
    baseline_p99: float
    rate: float
    cpu_ms: float | None = None
    """CPU milliseconds the role spent per delivery in the throughput phase."""
    baseline_cpu_ms: float | None = None


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


async def write_subscriptions(
    settings: DeliverySettings, receiver: Receiver, count: int, persons: int
) -> list[Subscription]:
    """``count`` subscriptions of PNR lists; person ``n`` is on list ``n % count``."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all")
    await producer.start()

    def open_log(topic: str, apply: Apply) -> StateLog:
        return KafkaStateLog(settings.bootstrap_servers, topic, apply, producer)

    store = SubscriptionStore(open_log, settings.topics)
    clients = ClientRegistry(open_log, settings.topics.clients)
    logs = [*store.logs, clients.log]
    try:
        await asyncio.gather(*(state_log.start() for state_log in logs))
        await clients.create(OWNER)
        subscriptions = [
            Subscription(
                id=f"sub-{i:04d}",
                owner=OWNER,
                name=f"bench {i}",
                endpoint=Endpoint(f"{receiver.base}/hook/{i}", generate_secret()),
                filter=Filter(pnr_list=True),
            )
            for i in range(count)
        ]
        for start in range(0, count, 50):
            await asyncio.gather(*(store.put(s) for s in subscriptions[start : start + 50]))
        for i, subscription in enumerate(subscriptions):
            members = [pnr_of(n) for n in range(i, persons, count)]
            await store.change_list(subscription.id, add=members)
        return subscriptions
    finally:
        for state_log in logs:
            await state_log.stop()
        await producer.stop()


async def publish(
    producer: AIOKafkaProducer, topic: str, events: list[BusinessEvent], rate: float | None
) -> dict[str, float]:
    """Publish ``events`` (at ``rate``/s, or at once); record time by event id."""
    codec = default_codec()
    sent = []
    started = time.monotonic()
    for n, event in enumerate(events):
        if rate is not None:
            ahead = started + n / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        future = await producer.send(topic, key=event.pnr.encode(), value=codec.encode(event))
        sent.append((event.id, future))
    return {event_id: (await future).timestamp / 1000 for event_id, future in sent}


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


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


async def run_scenario(
    bootstrap: str, receiver: Receiver, count: int, *, events: int, rate: float, seconds: float
) -> Figures:
    run = uuid.uuid4().hex[:8]
    settings = settings_for(bootstrap, run)
    latency_events = int(rate * seconds)
    persons = events + latency_events
    batch = [event_of(n, run) for n in range(events)]
    paced = [event_of(n, run) for n in range(events, persons)]
    await ensure_topics(bootstrap, delivery_topic_specs(settings))
    subscriptions = await write_subscriptions(settings, receiver, count, persons)

    def delivery_ids(chunk: list[BusinessEvent], first: int) -> dict[str, str]:
        return {
            webhook_message_id(subscriptions[(first + k) % count].id, e.id): e.id
            for k, e in enumerate(chunk)
        }

    port = free_port()
    role = start_role(role_environment(settings, port))
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    try:
        await wait_ready(port, role)
        await producer.start()
        async with aiohttp.ClientSession() as http:
            await receiver.reset(http)
            ids = delivery_ids(batch, 0)
            cpu_before = cpu_seconds(role.pid)
            published = await publish(producer, settings.topics.events, batch, None)
            arrived = await receiver.wait_for(http, set(ids), timeout=600)
            delivered_per_s = len(ids) / (max(arrived.values()) - min(published.values()))
            cpu_after = cpu_seconds(role.pid)
            cpu_ms = (
                None
                if cpu_before is None or cpu_after is None
                else (cpu_after - cpu_before) * 1000 / len(ids)
            )
            ids = delivery_ids(paced, events)
            published = await publish(producer, settings.topics.events, paced, rate)
            arrived = await receiver.wait_for(http, set(ids), timeout=600)
            latencies = [arrived[i] - published[ids[i]] for i in ids]
    finally:
        await producer.stop()
        role.send_signal(signal.SIGTERM)
        role.wait(timeout=120)
    baseline_per_s, baseline_cpu_ms, baseline_latencies = await baseline(
        receiver,
        subscriptions,
        (batch, paced),
        rate=rate,
        concurrency=min(count * CONCURRENCY_PER_SUBSCRIPTION, CONNECTIONS_PER_HOST),
    )
    return Figures(
        subscriptions=count,
        events=events,
        delivered_per_s=delivered_per_s,
        baseline_per_s=baseline_per_s,
        p50=percentile(latencies, 0.5),
        p99=percentile(latencies, 0.99),
        baseline_p50=percentile(baseline_latencies, 0.5),
        baseline_p99=percentile(baseline_latencies, 0.99),
        rate=rate,
        cpu_ms=cpu_ms,
        baseline_cpu_ms=baseline_cpu_ms,
    )


async def baseline(
    receiver: Receiver,
    subscriptions: list[Subscription],
    phases: tuple[list[BusinessEvent], list[BusinessEvent]],
    *,
    rate: float,
    concurrency: int,
) -> tuple[float, float, list[float]]:
    """A bare aiohttp client POSTing the same signed bodies: deliveries/s at
    ``concurrency`` and the CPU milliseconds per request that took (this
    process does nothing else meanwhile), and send-to-arrival latencies at
    ``rate``."""
    count = len(subscriptions)
    batch, paced = phases
    day = dt.datetime.now(tz=CPR_TIME_ZONE).date()

    def requests(chunk: list[BusinessEvent], first: int) -> list[tuple[str, WebhookRequest]]:
        made = []
        for k, event in enumerate(chunk):
            subscription = subscriptions[(first + k) % count]
            body = encode_delivery_body(
                event_to_dict(event), BodyLevel.FULL, may_see_protected=False, on=day
            )
            message_id = webhook_message_id(subscription.id, event.id)
            signed = sign_request(
                message_id, body, EndpointSecrets(subscription.endpoint.secret), time.time()
            )
            made.append((subscription.endpoint.url, signed))
        return made

    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await receiver.reset(http)
        gate = asyncio.Semaphore(concurrency)
        sent_at: dict[str, float] = {}

        async def post(url: str, request: WebhookRequest) -> None:
            async with gate:
                sent_at[request.message_id] = time.time()
                headers = dict(request.headers)
                async with http.post(url, data=request.body, headers=headers) as response:
                    await response.read()

        prepared = requests(batch, 0)
        started, cpu_started = time.time(), time.process_time()
        await asyncio.gather(*(post(url, request) for url, request in prepared))
        per_s = len(prepared) / (time.time() - started)
        cpu_ms = (time.process_time() - cpu_started) * 1000 / len(prepared)

        await receiver.reset(http)
        sent_at.clear()
        prepared = requests(paced, len(batch))
        tasks = []
        begun = time.monotonic()
        for n, (url, request) in enumerate(prepared):
            ahead = begun + n / rate - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
            tasks.append(asyncio.create_task(post(url, request)))
        await asyncio.gather(*tasks)
        arrived = await receiver.wait_for(http, set(sent_at), timeout=120)
        return per_s, cpu_ms, [arrived[i] - sent_at[i] for i in sent_at]


def report(figures: list[Figures]) -> str:
    """The figures as a table, with the targets."""
    header = (
        "subs  deliveries/s  baseline/s  ratio | at events/s  p50 ms  p99 ms  baseline p50/p99 ms"
        " | CPU ms per delivery/baseline"
    )
    rows = [
        f"{f.subscriptions:>4}  {f.delivered_per_s:>12,.0f}  {f.baseline_per_s:>10,.0f}  "
        f"{f.delivered_per_s / f.baseline_per_s:>5.2f} | {f.rate:>11,.0f}  "
        f"{f.p50 * 1000:>6.0f}  {f.p99 * 1000:>6.0f}  "
        f"{f.baseline_p50 * 1000:>6.0f}/{f.baseline_p99 * 1000:.0f} | "
        f"{_ms(f.cpu_ms)}/{_ms(f.baseline_cpu_ms)}"
        for f in figures
    ]
    footer = (
        "targets: ratio >= 0.50; p99 < 250 ms at 1,000 events/s\n"
        "CPU ms: the role's process (user + system) over the throughput phase per delivery;"
        " the baseline client's per request (the receiver's CPU in neither)"
    )
    return "\n".join([header, *rows, footer])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"))
    parser.add_argument("--subscriptions", default="1,100,1000")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--small", action="store_true", help="1 and 10 subscriptions, seconds")
    args = parser.parse_args(argv)
    if not args.bootstrap:
        parser.error("give --bootstrap or set KAFKA_BOOTSTRAP_SERVERS (cprbroker kafka start)")
    counts = [int(c) for c in args.subscriptions.split(",")]
    events, rate, seconds = args.events, args.rate, args.seconds
    if args.small:
        counts, events, rate, seconds = [1, 10], 300, 100.0, 2.0
    receiver = Receiver()
    try:
        figures = []
        for count in counts:
            scenario = run_scenario(
                args.bootstrap, receiver, count, events=events, rate=rate, seconds=seconds
            )
            figures.append(asyncio.run(scenario))
            print(report(figures[-1:]).splitlines()[1], file=sys.stderr)
    finally:
        receiver.stop()
    print(f"events per count: {events:,} at once, then {rate:,.0f}/s for {seconds:g} s")
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
