"""``cprbroker delivery``: fan out events to matching subscriptions and deliver
them to their webhooks until SIGTERM or SIGINT, then drain.

Settings come from flags, else ``CPRBROKER_*`` variables and
``KAFKA_BOOTSTRAP_SERVERS`` (see :meth:`DeliverySettings.with_environ`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import replace

import structlog

from cprbroker.core.delivery.retry import RetryLadder
from cprbroker.core.errors import CprBrokerError, InputError, SettingsError
from cprbroker.delivery.runner import run_delivery
from cprbroker.delivery.settings import DeliverySettings, split_list

log = structlog.get_logger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``delivery`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "delivery",
        help="deliver matching events to subscribers' webhooks (signed, retried, never lost)",
        description=(
            "Consume the events topic, fan each event out to the matching subscriptions and "
            "POST it to their webhooks, with short retries, a durable retry ladder and a "
            "dead-letter topic. Serves /metrics, /healthz and /readyz. Settings also come "
            "from KAFKA_BOOTSTRAP_SERVERS and CPRBROKER_* variables (CPRBROKER_RETRY_LADDER, "
            "CPRBROKER_CALLBACK_ALLOW_CIDRS, CPRBROKER_METRICS_PORT, CPRBROKER_TOPIC_<NAME>, ...)."
        ),
    )
    parser.add_argument(
        "--bootstrap-servers", help="Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)"
    )
    parser.add_argument("--group", help="consumer group prefix (default cprbroker-delivery)")
    parser.add_argument(
        "--retry-ladder", metavar="DELAYS", help='durable retry delays, e.g. "5s,5m,30m,2h"'
    )
    parser.add_argument(
        "--allow-callback-cidr",
        action="append",
        metavar="CIDR",
        help="admit webhook hosts resolving into this network although private, loopback or "
        "link-local (repeatable; also a comma-separated list)",
    )
    parser.add_argument("--metrics-port", type=int, help="port of /metrics (default 9108, 0=any)")
    parser.add_argument("--no-metrics", action="store_true", help="serve no metrics endpoint")
    parser.add_argument(
        "--concurrency", type=int, help="simultaneous requests per subscription (default 8)"
    )
    parser.set_defaults(handler=_serve)


def settings_from(args: argparse.Namespace) -> DeliverySettings:
    """The delivery settings: defaults, then the environment, then the flags given."""
    settings = DeliverySettings().with_environ(os.environ)
    changes: dict[str, object] = {}
    if args.bootstrap_servers:
        changes["bootstrap_servers"] = args.bootstrap_servers
    if args.group:
        changes["group_id"] = args.group
    if args.retry_ladder:
        try:
            changes["ladder"] = RetryLadder.parse(args.retry_ladder, settings.ladder.jitter)
        except CprBrokerError as exc:
            raise SettingsError(f"--retry-ladder: {exc}") from exc
    if args.allow_callback_cidr:
        changes["callback_allow_cidrs"] = tuple(
            cidr for entry in args.allow_callback_cidr for cidr in split_list(entry)
        )
    if args.no_metrics:
        changes["metrics_port"] = None
    elif args.metrics_port is not None:
        changes["metrics_port"] = args.metrics_port
    if args.concurrency is not None:
        changes["concurrency_per_subscription"] = args.concurrency
    return replace(settings, **changes)  # type: ignore[arg-type]


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        asyncio.run(serve(settings))
    except InputError as exc:
        print(f"cprbroker delivery: {exc}", file=sys.stderr)
        return 2
    except CprBrokerError as exc:
        print(f"cprbroker delivery: {exc}", file=sys.stderr)
        return 1
    return 0


async def serve(settings: DeliverySettings) -> None:
    """Run the delivery role until SIGTERM or SIGINT, then drain and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print(f"cprbroker delivery: consuming {settings.topics.events}", file=sys.stderr)
    await run_delivery(settings, stop)
