"""``cprbroker processor [--data-dir DIR]``: keep the replica and turn
``cpr.person-records`` into business events on ``cpr.events``, until SIGTERM
or SIGINT (then it drains: the batch in hand finishes, offsets are committed).

The replica lives in a faust table: RocksDB under ``--data-dir`` (a cache; an
empty directory is rebuilt from the table's changelog topic) or, with
``--store memory``, only in memory. Events are Avro (single-object encoding)
with CloudEvents ``ce_`` headers. Persons whose records fail go to
``cpr.person-records.dlq`` with the error in headers.

Settings come from flags, else ``KAFKA_BOOTSTRAP_SERVERS`` and ``CPRBROKER_*``
variables (see :meth:`ProcessorSettings.with_environ`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from cprbroker.core.errors import InfrastructureError, InputError
from cprbroker.logs import configure_logging
from cprbroker.processor.runner import run_processor
from cprbroker.processor.settings import COMPRESSION_TYPES, STORES, ProcessorSettings

EXIT_CRASHED = 1
EXIT_SETTINGS = 2
EXIT_KAFKA = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``processor`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "processor",
        help="derive business events from cpr.person-records onto cpr.events (faust)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data-dir", type=Path, help="local state directory (RocksDB)")
    parser.add_argument("--store", choices=STORES, help="replica store (default rocksdb)")
    parser.add_argument("--app-id", help="consumer group and internal topic prefix")
    parser.add_argument(
        "--bootstrap-servers", help="Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)"
    )
    parser.add_argument(
        "--partitions", type=int, help="partitions of topics this command creates (default 6)"
    )
    parser.add_argument("--batch-size", type=int, help="messages derived together (default 1000)")
    parser.add_argument("--compression", choices=COMPRESSION_TYPES, help="producer compression")
    parser.add_argument("--catalogue", type=Path, help="event catalogue TOML file")
    health = parser.add_mutually_exclusive_group()
    health.add_argument(
        "--health-port", type=int, help="port of /healthz and /readyz (default 9109; 0: any free)"
    )
    health.add_argument("--no-health", action="store_true", help="serve no /healthz and /readyz")
    parser.add_argument(
        "--log-level",
        default=None,
        help="log level of the process (default $CPRBROKER_LOG_LEVEL or INFO)",
    )
    parser.set_defaults(handler=_run)


def settings_from(args: argparse.Namespace) -> ProcessorSettings:
    """Defaults, then the environment, then the flags given."""
    settings = ProcessorSettings().with_environ(os.environ)
    overrides = {
        "data_dir": args.data_dir,
        "store": args.store,
        "app_id": args.app_id,
        "bootstrap_servers": args.bootstrap_servers,
        "partitions": args.partitions,
        "batch_size": args.batch_size,
        "compression": args.compression,
        "event_catalogue": args.catalogue,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if args.no_health:
        settings = replace(settings, health_port=None)
    elif args.health_port is not None:
        settings = replace(settings, health_port=args.health_port)
    return settings


def _run(args: argparse.Namespace) -> int:
    if args.log_level is not None:
        configure_logging(args.log_level)
    try:
        settings = settings_from(args)
        return asyncio.run(_main(settings))
    except InputError as exc:
        print(f"cprbroker processor: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except InfrastructureError as exc:
        print(f"cprbroker processor: {exc}", file=sys.stderr)
        return EXIT_KAFKA


async def _main(settings: ProcessorSettings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    status = await run_processor(settings, stop)
    return EXIT_CRASHED if status else 0
