"""``cprbroker ingest [--full] [--allow-gap] FILE...``: publish CPR extract
files to ``cpr.person-records``, one message per person (key = PNR).

Files are checked against the last file published (kept in the compacted
``cpr.ingest-state`` topic): a delta whose PRODDTOFORRIG is not the last
PRODDTO is refused, naming both dates, unless ``--allow-gap``; a file already
published (same OPGAVENR and PRODDTO) changes nothing and says so. ``--full``
marks full extracts (initial load): the processor fills the replica from them
and emits no events. ``--reset-state`` forgets the last file published.

``--watch DIR`` runs ingest on an inbox folder until SIGTERM or SIGINT
instead: delta files dropped into DIR (full extracts into DIR/full) are
applied in production-date order and moved to DIR/processed, or to
DIR/rejected beside a ``.reason.txt`` (see :mod:`cprbroker.ingest.inbox`).
It serves ``/healthz``, ``/readyz`` and ``/status`` on 9110 for probes and the
operator (see :mod:`cprbroker.ingest.inbox_health`).

Settings come from flags, else ``KAFKA_BOOTSTRAP_SERVERS`` and ``CPRBROKER_*``
variables (see :meth:`IngestSettings.with_environ`).

Exit status: 0 every file published (or already published), 1 some persons
were refused (named on stderr with file and line, and sent to the dead-letter
topic; the rest of the file was published), 2 a file was refused (framing
error, gap, older file, unreadable) and published nothing; later files are
then not read. 3 Kafka failed; 130 interrupted (the file being published is
not recorded, so running the command again publishes it again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

from cprbroker.core.errors import InfrastructureError, InputError
from cprbroker.ingest.inbox import InboxSettings, InboxStatus, watch_inbox
from cprbroker.ingest.inbox_health import serve_inbox_health
from cprbroker.ingest.run import reset_state as reset_ingest_state
from cprbroker.ingest.run import run_ingest
from cprbroker.ingest.settings import COMPRESSION_TYPES, IngestSettings

EXIT_KAFKA = 3
EXIT_INTERRUPTED = 130


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``ingest`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "ingest",
        help="publish CPR extract files to cpr.person-records (one message per person)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="CPR extract files")
    parser.add_argument(
        "--full", action="store_true", help="the files are full extracts (initial load)"
    )
    parser.add_argument(
        "--allow-gap",
        action="store_true",
        help="publish a delta even if its PRODDTOFORRIG is not the last published PRODDTO",
    )
    parser.add_argument(
        "--reset-state",
        action="store_true",
        help="forget the last file published before reading FILEs",
    )
    parser.add_argument(
        "--watch",
        type=Path,
        metavar="DIR",
        help="watch the inbox DIR until SIGTERM/SIGINT (full extracts in DIR/full)",
    )
    health = parser.add_mutually_exclusive_group()
    health.add_argument(
        "--health-port",
        type=int,
        help="with --watch: port of /healthz, /readyz and /status (default 9110; 0: any free)",
    )
    health.add_argument(
        "--no-health", action="store_true", help="with --watch: serve no health endpoints"
    )
    add_kafka_options(parser)
    parser.add_argument("--compression", choices=COMPRESSION_TYPES, help="producer compression")
    parser.set_defaults(handler=_run)


def add_kafka_options(parser: argparse.ArgumentParser) -> None:
    """Kafka options shared by the pipeline commands."""
    parser.add_argument(
        "--bootstrap-servers", help="Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)"
    )
    parser.add_argument(
        "--partitions", type=int, help="partitions of topics this command creates (default 6)"
    )
    parser.add_argument(
        "--no-create-topics",
        action="store_true",
        help="do not create missing topics (they must exist)",
    )


def settings_from(args: argparse.Namespace) -> IngestSettings:
    """Defaults, then the environment, then the flags given."""
    settings = IngestSettings().with_environ(os.environ)
    overrides = {
        "bootstrap_servers": args.bootstrap_servers,
        "partitions": args.partitions,
        "compression": args.compression,
        "create_topics": False if args.no_create_topics else None,
    }
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _run(args: argparse.Namespace) -> int:
    if args.watch is not None:
        return _watch(args)
    if not args.files and not args.reset_state:
        print("cprbroker ingest: give FILEs (or --reset-state)", file=sys.stderr)
        return 2
    if args.health_port is not None or args.no_health:
        print("cprbroker ingest: --health-port and --no-health go with --watch", file=sys.stderr)
        return 2
    try:
        settings = settings_from(args)
        return asyncio.run(_main(settings, args))
    except InputError as exc:
        print(f"cprbroker ingest: {exc}", file=sys.stderr)
        return 2
    except InfrastructureError as exc:
        print(f"cprbroker ingest: {exc}", file=sys.stderr)
        return EXIT_KAFKA


async def _main(settings: IngestSettings, args: argparse.Namespace) -> int:
    # SIGTERM/SIGINT cancel the run: the producer is stopped (flushing what
    # was sent) and the file in progress is not recorded as published.
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    if task is not None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, task.cancel)
    try:
        if args.reset_state:
            await reset_ingest_state(settings)
            print("cprbroker ingest: ingest state reset", file=sys.stderr)
        if not args.files:
            return 0
        return await run_ingest(settings, args.files, full=args.full, allow_gap=args.allow_gap)
    except asyncio.CancelledError:
        print("cprbroker ingest: interrupted; the current file was not recorded", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)


def _watch(args: argparse.Namespace) -> int:
    if args.files or args.full or args.allow_gap or args.reset_state:
        print(
            "cprbroker ingest: --watch takes no FILEs, --full, --allow-gap or --reset-state "
            "(full extracts go into DIR/full)",
            file=sys.stderr,
        )
        return 2
    try:
        settings = settings_from(args)
        inbox = replace(InboxSettings().with_environ(os.environ), root=args.watch)
        if args.no_health:
            inbox = replace(inbox, health_port=None)
        elif args.health_port is not None:
            inbox = replace(inbox, health_port=args.health_port)
        return asyncio.run(_watch_main(settings, inbox))
    except InputError as exc:
        print(f"cprbroker ingest: {exc}", file=sys.stderr)
        return 2
    except InfrastructureError as exc:
        print(f"cprbroker ingest: {exc}", file=sys.stderr)
        return EXIT_KAFKA


async def _watch_main(settings: IngestSettings, inbox: InboxSettings) -> int:
    # The first SIGTERM/SIGINT lets the file in hand finish; a second one
    # cancels it (it is then not recorded, and is published again next time).
    stop = asyncio.Event()
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def signalled() -> None:
        if stop.is_set() and task is not None:
            task.cancel()
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled)
    print(f"cprbroker ingest: watching {inbox.root}", file=sys.stderr)
    status = InboxStatus()
    health = await serve_inbox_health(status, inbox)
    if health is not None:
        print(f"cprbroker ingest: health at {health.url}/healthz", file=sys.stderr)
    try:
        await watch_inbox(settings, inbox, stop, status=status)
    except asyncio.CancelledError:
        print("cprbroker ingest: interrupted; the current file was not recorded", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(ValueError, RuntimeError):
                loop.remove_signal_handler(signum)
        if health is not None:
            await health.stop()
    return 0
