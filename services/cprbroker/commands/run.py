"""``cprbroker run``: every role in one process (inbox ingest, processor,
delivery, API) until SIGTERM or SIGINT, then drain and stop.

Kafka is the one named by ``KAFKA_BOOTSTRAP_SERVERS``; when that is unset,
the project's local broker is used if it runs (``cprbroker kafka start``,
left running), else started here and stopped on exit.

The inbox (``--inbox``, default ./var/inbox): drop delta files in it and full
extracts in its ``full/`` folder. Files named ``.*``, ``*.part``, ``*.tmp``
or ``*.partial`` are ignored, and a file is read once its size has not
changed for a second (write under a ``.part`` name and rename it when done).
Files are applied in production-date order (PRODDTO of the 000 record) and
moved to ``processed/``, or to ``rejected/`` beside ``<name>.reason.txt``
(framing error, gap, repeat, out of order, unreadable). A delta that leaves
a gap waits a minute for the missing one before it is rejected.

Each role also runs alone for scale-out: ``cprbroker ingest --watch DIR``,
``cprbroker processor``, ``cprbroker delivery``, ``cprbroker api``. Settings
come from flags, else the variables each of those reads (``CPRBROKER_*``).

Exit status: 0 after a requested stop, 1 a role failed, 2 bad settings,
3 Kafka could not be had.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import replace
from pathlib import Path

from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings, default_project_root
from cprbroker.api.settings import split_list
from cprbroker.core.errors import CprBrokerError, InfrastructureError, InputError
from cprbroker.run.host import RoleFailedError, run_roles
from cprbroker.run.kafka import KafkaLease, external, local_kafka
from cprbroker.run.settings import RunSettings
from cprbroker.run.signals import stop_on_signals

EXIT_FAILED = 1
EXIT_SETTINGS = 2
EXIT_KAFKA = 3
EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``run`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "run",
        help="every role in one process: inbox ingest, processor, delivery, API",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_run_options(parser)
    parser.set_defaults(handler=_run)


def add_run_options(parser: argparse.ArgumentParser) -> None:
    """The options ``run`` and ``demo`` share."""
    parser.add_argument("--inbox", type=Path, help="the inbox folder (default ./var/inbox)")
    parser.add_argument("--api-host", help="address the API binds (default 127.0.0.1)")
    parser.add_argument("--api-port", type=int, help="port of the API (default 8080, 0=any)")
    parser.add_argument(
        "--data-dir", type=Path, help="the processor's local state (default ./var/processor)"
    )
    parser.add_argument(
        "--partitions", type=int, help="partitions of the topics created (default 6)"
    )
    parser.add_argument(
        "--metrics-port", type=int, help="port of delivery's /metrics (default 9108, 0=any)"
    )
    parser.add_argument(
        "--allow-callback-cidr",
        action="append",
        metavar="CIDR",
        help="admit webhook hosts in this network although private, loopback or link-local "
        "(repeatable; also a comma-separated list)",
    )


def settings_from(args: argparse.Namespace) -> RunSettings:
    """Defaults, then the environment, then the flags given."""
    settings = RunSettings.from_environ(os.environ)
    if args.inbox is not None:
        settings = replace(settings, inbox=replace(settings.inbox, root=args.inbox))
    api_changes = {"host": args.api_host, "port": args.api_port}
    settings = replace(
        settings,
        api=replace(settings.api, **{k: v for k, v in api_changes.items() if v is not None}),
    )
    if args.data_dir is not None:
        settings = replace(settings, processor=replace(settings.processor, data_dir=args.data_dir))
    if args.metrics_port is not None:
        settings = replace(
            settings, delivery=replace(settings.delivery, metrics_port=args.metrics_port)
        )
    if args.partitions is not None:
        settings = settings.with_partitions(args.partitions)
    if args.allow_callback_cidr:
        cidrs = tuple(c for entry in args.allow_callback_cidr for c in split_list(entry))
        settings = settings.allowing_callbacks(cidrs)
    return settings


def kafka_lease(settings: RunSettings) -> KafkaLease:
    """The Kafka named in the settings, else the project's local broker."""
    if settings.bootstrap_servers is not None:
        return external(settings.bootstrap_servers)
    local = LocalKafkaSettings.for_project(default_project_root()).with_environ(os.environ)
    return local_kafka(local)


def _run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        settings.consistent()
    except InputError as exc:
        print(f"cprbroker run: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    try:
        lease = kafka_lease(settings)
    except CprBrokerError as exc:
        print(f"cprbroker run: Kafka: {exc}", file=sys.stderr)
        return EXIT_KAFKA
    try:
        return asyncio.run(_main(settings.with_bootstrap(lease.bootstrap_servers)))
    except InputError as exc:
        print(f"cprbroker run: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except InfrastructureError as exc:
        print(f"cprbroker run: {exc}", file=sys.stderr)
        return EXIT_KAFKA
    except OSError as exc:  # a port taken, a folder not writable
        print(f"cprbroker run: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lease.release()


async def _main(settings: RunSettings) -> int:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        print(
            f"cprbroker run: Kafka {settings.bootstrap_servers}, inbox {settings.inbox.root}, "
            f"API on {settings.api.host}:{settings.api.port}; Ctrl-C stops",
            file=sys.stderr,
        )
        try:
            await run_roles(settings, stop)
        except RoleFailedError as exc:
            print(f"cprbroker run: {exc}", file=sys.stderr)
            return EXIT_FAILED
        except asyncio.CancelledError:
            print("cprbroker run: stopped without draining (second signal)", file=sys.stderr)
            return EXIT_INTERRUPTED
    return 0
