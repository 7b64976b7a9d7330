"""Benchmark: webhook delivery, from an event published on Kafka to the webhook
received, with 1, 100 and 1,000 subscriptions.

For each subscription count, ``cprbroker delivery`` runs as it is deployed:
``--processes`` processes of it (default 2, as ``deploy/k8s`` runs two
replicas, and one per core here) in one consumer group, against a receiver
process on 127.0.0.1. Every subscription follows its own
PNR list and each event's person is on exactly one list, so every event makes
one delivery (matched among all the subscriptions). Two phases per count:

* throughput: ``--events`` events published at once; deliveries/s from the
  first publication to the last arrival;
* latency: events published at ``--rate`` events/s for ``--warm-up`` seconds
  and then ``--seconds`` more; p50 and p99 of publication (Kafka record time)
  to arrival at the receiver, over the events of the ``--seconds`` only. The
  warm-up lets the role settle from the throughput phase (its last commits and
  attempt-log writes, its collector) into the sustained rate.

The publisher writes events as the processor does: one record batch per
partition at a time, without linger (every 5 ms, what fell due meanwhile).

The baseline, in the same run against the same receiver, is a bare aiohttp
client POSTing the same signed bodies, in as many processes as the role runs,
each with the concurrency one role process may use (as many connections as it
may open to one host): its deliveries/s, and its latency from send to arrival
at the same rate. The ratio is delivery/baseline.
Targets: throughput at least half the baseline's; p99 under 250 ms at 1,000
events/s.

    python bench/delivery.py --bootstrap HOST:PORT     # 1, 100, 1000 subscriptions
    python bench/delivery.py --small --bootstrap ...   # 1 and 10 subscriptions, seconds
    python bench/delivery.py --processes 1 ...         # one role process, one client process
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import aiohttp
from aiokafka import AIOKafkaProducer

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.client_registry import ClientRegistry
from cprbroker.adapters.kafka_admin import delete_topics, ensure_topics
from cprbroker.adapters.record_batches import OutgoingRecord, RecordBatcher, SentBatch, acknowledged
from cprbroker.adapters.state_store import Apply, KafkaStateLog, StateLog
from cprbroker.adapters.subscription_state import SubscriptionStore
from cprbroker.core.delivery.cloudevents import webhook_message_id
from cprbroker.core.delivery.signing import generate_secret
from cprbroker.core.events.event import BusinessEvent, DomainChange, event_id
from cprbroker.core.events.model import Address, Domain, Name, PersonStatus, Snapshot
from cprbroker.core.subscriptions import Endpoint, Filter, Subscription
from cprbroker.delivery.runner import delivery_topic_specs
from cprbroker.delivery.settings import DeliverySettings

try:
    from bench import delivery_baseline, delivery_receiver, delivery_roles
except ImportError:  # run as a script: bench/ itself is on the path
    import delivery_baseline  # type: ignore[no-redef]
    import delivery_receiver  # type: ignore[no-redef]
    import delivery_roles  # type: ignore[no-redef]

OWNER = "bench"


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


async def write_subscriptions(
    settings: DeliverySettings, receiver: delivery_receiver.Receiver, count: int, persons: int
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


Encoded = tuple[str, OutgoingRecord]
"""An event ready to publish: its id, and its record on the events topic."""

TICK = 0.005
"""How often the paced publisher hands what fell due to Kafka (aiokafka's
linger would batch as much, but charge the wait to the latency)."""


def encoded(events: list[BusinessEvent], topic: str) -> list[Encoded]:
    """``events`` encoded before the clock starts, so that the publisher spends
    its share of the machine on sending alone."""
    codec = default_codec()
    return [(e.id, OutgoingRecord(topic, e.pnr.encode(), codec.encode(e))) for e in events]


async def publish(
    producer: AIOKafkaProducer, events: list[Encoded], rate: float | None
) -> dict[str, float]:
    """Publish ``events`` (at ``rate``/s, or at once) as the processor writes
    events: one record batch per partition at a time. Returns the publication
    time (the records' Kafka time) by event id."""
    batcher = RecordBatcher(producer)
    published: dict[str, float] = {}
    sent: list[SentBatch] = []
    started = time.monotonic()
    done = 0
    while done < len(events):
        due = len(events) if rate is None else int((time.monotonic() - started) * rate) + 1
        due = min(due, len(events))
        if due > done:
            chunk = events[done:due]
            at = time.time()
            sent.extend(await batcher.submit(record for _, record in chunk))
            published.update((ident, at) for ident, _ in chunk)
            done = due
        if rate is not None and done < len(events):
            await asyncio.sleep(max(TICK, started + done / rate - time.monotonic()))
    await acknowledged(sent)
    return published


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class Load:
    """What each subscription count gets: ``events`` at once, then ``rate``
    events/s for ``warm_up`` and then ``seconds`` more (measured), from
    ``processes`` role (and baseline) processes."""

    events: int
    rate: float
    seconds: float
    processes: int
    warm_up: float = 0.0


async def run_scenario(
    bootstrap: str, receiver: delivery_receiver.Receiver, count: int, load: Load
) -> Figures:
    """Measure one subscription count on topics of its own, deleted afterwards."""
    run = uuid.uuid4().hex[:8]
    settings = delivery_roles.settings_for(bootstrap, run)
    specs = delivery_topic_specs(settings)
    await ensure_topics(bootstrap, specs)
    try:
        return await measure(settings, run, receiver, count, load)
    finally:
        await delete_topics(bootstrap, [spec.name for spec in specs])


async def measure(
    settings: DeliverySettings,
    run: str,
    receiver: delivery_receiver.Receiver,
    count: int,
    load: Load,
) -> Figures:
    """The throughput and latency phases for ``count`` subscriptions, then the baseline."""
    bootstrap = settings.bootstrap_servers
    events, rate, processes = load.events, load.rate, load.processes
    warm_up_events = int(rate * load.warm_up)
    persons = events + warm_up_events + int(rate * load.seconds)
    batch = [event_of(n, run) for n in range(events)]
    paced = [event_of(n, run) for n in range(events, persons)]
    batch_records = encoded(batch, settings.topics.events)
    paced_records = encoded(paced, settings.topics.events)
    subscriptions = await write_subscriptions(settings, receiver, count, persons)
    # The events and subscriptions stay until the end: a full collection that
    # walked them paused the publisher for 100-200 ms, which then published
    # what fell due meanwhile as one burst, not at the rate asked for.
    gc.collect()
    gc.freeze()

    def delivery_ids(chunk: list[BusinessEvent], first: int) -> dict[str, str]:
        return {
            webhook_message_id(subscriptions[(first + k) % count].id, e.id): e.id
            for k, e in enumerate(chunk)
        }

    roles: list[subprocess.Popen[bytes]] = []
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        for _ in range(processes):
            port = delivery_roles.free_port()
            roles.append(delivery_roles.start_role(delivery_roles.role_environment(settings, port)))
            await delivery_roles.wait_ready(port, roles[-1])
        for stage in ("fanout", "send", "retry"):
            await delivery_roles.wait_for_group(
                bootstrap, f"{settings.group_id}.{stage}", processes
            )
        await producer.start()
        async with aiohttp.ClientSession() as http:
            await receiver.reset(http)
            ids = delivery_ids(batch, 0)
            cpu_before = [delivery_roles.cpu_seconds(role.pid) for role in roles]
            published = await publish(producer, batch_records, None)
            arrived = await receiver.wait_for(http, set(ids), timeout=600)
            delivered_per_s = len(ids) / (max(arrived.values()) - min(published.values()))
            cpu_after = [delivery_roles.cpu_seconds(role.pid) for role in roles]
            cpu_ms = (
                None
                if None in cpu_before or None in cpu_after
                else sum(a - b for a, b in zip(cpu_after, cpu_before, strict=True))  # type: ignore[operator]
                * 1000
                / len(ids)
            )
            ids = delivery_ids(paced, events)
            published = await publish(producer, paced_records, rate)
            arrived = await receiver.wait_for(http, set(ids), timeout=600)
            # delivery_ids keeps the events' order: the warm-up's come first.
            measured = dict(list(ids.items())[warm_up_events:])
            latencies = [arrived[i] - published[measured[i]] for i in measured]
    finally:
        await producer.stop()
        for role in roles:
            role.send_signal(signal.SIGTERM)
        for role in roles:
            role.wait(timeout=120)
    baseline_per_s, baseline_cpu_ms, baseline_latency = await baseline(
        receiver,
        subscriptions,
        (batch, paced),
        rate=rate,
        processes=processes,
        concurrency=min(
            count * delivery_roles.CONCURRENCY_PER_SUBSCRIPTION, delivery_roles.CONNECTIONS_PER_HOST
        ),
    )
    baseline_latencies = [baseline_latency[i] for i in measured]
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
    receiver: delivery_receiver.Receiver,
    subscriptions: list[Subscription],
    phases: tuple[list[BusinessEvent], list[BusinessEvent]],
    *,
    rate: float,
    processes: int,
    concurrency: int,
) -> tuple[float, float, dict[str, float]]:
    """Bare aiohttp clients in ``processes`` processes POSTing the same signed
    bodies: deliveries/s at ``concurrency`` per process and the CPU
    milliseconds per request that took (they do nothing else meanwhile), and
    send-to-arrival latency by webhook-id at ``rate``."""
    batch, paced = phases
    requests = [
        delivery_baseline.signed_requests(subscriptions, batch, 0),
        delivery_baseline.signed_requests(subscriptions, paced, len(batch)),
    ]
    clients = delivery_baseline.BaselineClients(requests, processes, concurrency)
    try:
        async with aiohttp.ClientSession() as http:
            await receiver.reset(http)
            results = await asyncio.to_thread(clients.run, 0.0)
            elapsed = max(r["ended"] for r in results) - min(r["began"] for r in results)
            per_s = len(batch) / elapsed
            cpu_ms = sum(r["cpu"] for r in results) * 1000 / len(batch)
            await receiver.reset(http)
            results = await asyncio.to_thread(clients.run, rate)
            sent_at = {i: t for r in results for i, t in r["sent_at"].items()}
            arrived = await receiver.wait_for(http, set(sent_at), timeout=120)
    finally:
        clients.close()
    return per_s, cpu_ms, {i: arrived[i] - sent_at[i] for i in sent_at}


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
        "CPU ms: the role's processes (user + system) over the throughput phase per delivery;"
        " the baseline clients' per request (the receiver's CPU in neither)"
    )
    return "\n".join([header, *rows, footer])


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--bootstrap-servers",
        "--bootstrap",
        dest="bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS"),
    )
    parser.add_argument("--subscriptions", default="1,100,1000")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--warm-up",
        type=float,
        default=2.0,
        help="seconds at --rate before the measured --seconds (default 2)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=2,
        help="delivery processes in the group, and baseline client processes (default 2,"
        " as deployed)",
    )
    parser.add_argument("--small", action="store_true", help="1 and 10 subscriptions, seconds")
    args = parser.parse_args(argv)
    if not args.bootstrap:
        parser.error(
            "give --bootstrap-servers or set KAFKA_BOOTSTRAP_SERVERS (cprbroker kafka start)"
        )
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    if args.warm_up < 0:
        parser.error(f"--warm-up must not be negative, got {args.warm_up:g}")
    counts = [int(c) for c in args.subscriptions.split(",")]
    events, rate, seconds, warm_up = args.events, args.rate, args.seconds, args.warm_up
    if args.small:
        counts, events, rate, seconds, warm_up = [1, 10], 300, 100.0, 2.0, 0.5
    receiver = delivery_receiver.Receiver()
    try:
        figures = []
        for count in counts:
            load = Load(events, rate, seconds, args.processes, warm_up)
            scenario = run_scenario(args.bootstrap, receiver, count, load)
            figures.append(asyncio.run(scenario))
            gc.unfreeze()  # the next count builds its own
            print(report(figures[-1:]).splitlines()[1], file=sys.stderr)
    finally:
        receiver.stop()
    print(
        f"events per count: {events:,} at once, then {rate:,.0f}/s for {warm_up:g} s"
        f" (warm-up) and {seconds:g} s (measured)"
    )
    print(
        f"{args.processes} delivery process(es) in one consumer group;"
        f" {args.processes} baseline client process(es)"
    )
    print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
