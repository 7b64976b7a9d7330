"""``cprbroker demo``: the whole broker on synthetic data, live (``make run``).

Starts Kafka (its own, in WORKDIR/kafka, fresh every time; or the one named
by ``KAFKA_BOOTSTRAP_SERVERS``, on topics and groups of this run's own) and
every role in this process (``cprbroker run``); creates a demo API client
and a catch-all subscription through the API, pointing at a built-in webhook
receiver that verifies every signature; drops a synthetic full extract and
a few deltas into the inbox; and shows what happens: the load, events,
deliveries and the last deliveries received. It prints the API URL and the
demo client's token so the API can be tried with curl, and serves until
Ctrl-C (or SIGTERM); then every role drains, the receiver stops, and the
Kafka it started is stopped by its PID.

WORKDIR (default ./var/demo) is the demo's own: its inbox, processor state,
synthetic files and Kafka are deleted and made anew at each start. On a
terminal the view is redrawn every second and logs go to WORKDIR/demo.log;
otherwise (or with --plain) a ``demo.status key=value ...`` line is printed
whenever a figure changes, and logs go to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings, default_project_root
from cprbroker.core.errors import CprBrokerError, InfrastructureError, InputError
from cprbroker.demo.data import SeriesInBackground
from cprbroker.demo.session import SessionOptions, run_session
from cprbroker.run.host import RoleFailedError
from cprbroker.run.kafka import KafkaLease, external, local_kafka
from cprbroker.run.settings import LOOPBACK_CIDRS, RunSettings
from cprbroker.run.signals import stop_on_signals
from cprbroker.synth.writer import SynthSettings

EXIT_FAILED = 1
EXIT_SETTINGS = 2
EXIT_KAFKA = 3
EXIT_INTERRUPTED = 130
MARKER = ".cprbroker-demo"
"""Marks a folder as the demo's own, so wiping it can never hit anything else."""


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``demo`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "demo",
        help="the whole broker on synthetic data with a live view (make run)",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--persons", type=_positive, default=20_000, help="population (20000)")
    parser.add_argument("--days", type=_positive, default=3, help="delta files (default 3)")
    parser.add_argument("--seed", default="demo", help="synthetic data seed (default demo)")
    parser.add_argument(
        "--workdir", type=Path, default=Path("var/demo"), help="the demo's folder (var/demo)"
    )
    parser.add_argument("--api-port", type=int, default=8080, help="API port (8080; 0=any)")
    parser.add_argument("--partitions", type=_positive, default=3, help="topic partitions (3)")
    parser.add_argument(
        "--plain", action="store_true", help="status lines instead of a redrawn screen"
    )
    parser.add_argument(
        "--refresh", type=float, default=1.0, help="seconds between refreshes (default 1)"
    )
    parser.set_defaults(handler=_run)


def settings_for(args: argparse.Namespace, workdir: Path) -> RunSettings:
    """The environment's settings, then the demo's: its own inbox and
    processor state, the API port, loopback webhooks allowed, metrics on
    any free port, and quick waits in the inbox."""
    settings = RunSettings.from_environ(os.environ).with_partitions(args.partitions)
    settings = replace(
        settings,
        inbox=replace(settings.inbox, root=workdir / "inbox", settle_seconds=0.5),
        processor=replace(settings.processor, data_dir=workdir / "processor"),
        api=replace(settings.api, port=args.api_port),
        delivery=replace(settings.delivery, metrics_port=0),
    )
    return settings.allowing_callbacks(LOOPBACK_CIDRS)


def prepare_workdir(workdir: Path) -> None:
    """Empty the demo's folder (only if it is the demo's: marked, or empty)."""
    if workdir.exists() and any(workdir.iterdir()) and not (workdir / MARKER).exists():
        raise InputError(
            f"{workdir} is not empty and not a cprbroker demo folder ({MARKER} missing); "
            "give another --workdir"
        )
    for child in ("inbox", "processor", "synth"):
        shutil.rmtree(workdir / child, ignore_errors=True)
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / MARKER).write_text("the cprbroker demo deletes and recreates this folder\n")


def kafka_for(settings: RunSettings, workdir: Path) -> tuple[KafkaLease, RunSettings, str]:
    """The demo's Kafka: its own fresh broker, or the named one with this
    run's own topic and group names; and a line saying which."""
    if settings.bootstrap_servers is not None:
        prefix = f"demo-{uuid.uuid4().hex[:8]}."
        lease = external(settings.bootstrap_servers)
        line = f"{lease.bootstrap_servers} (topics and groups prefixed {prefix})"
        return lease, settings.namespaced(prefix), line
    defaults = LocalKafkaSettings.for_project(default_project_root())
    # The quick JIT tier starts the broker in about half the time; a demo's
    # load never needs the peak throughput it gives up.
    defaults = replace(defaults, quick_jit=True)
    local = replace(
        defaults.with_environ(os.environ), state_dir=workdir / "kafka", port=0, controller_port=0
    )
    lease = local_kafka(local, fresh=True)
    return lease, settings, f"{lease.bootstrap_servers} (its own, in {local.state_dir})"


def _run(args: argparse.Namespace) -> int:
    workdir = args.workdir.resolve()
    try:
        prepare_workdir(workdir)
        settings = settings_for(args, workdir)
        settings.consistent()
    except InputError as exc:
        print(f"cprbroker demo: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    series = SeriesInBackground(
        SynthSettings(persons=args.persons, days=args.days, seed=args.seed, out=workdir / "synth")
    ).start()
    terminal = sys.stdout.isatty() and not args.plain
    print(f"cprbroker demo: starting Kafka and every role (work folder {workdir})", flush=True)
    try:
        lease, settings, kafka_line = kafka_for(settings, workdir)
    except CprBrokerError as exc:
        print(f"cprbroker demo: Kafka: {exc}", file=sys.stderr)
        return EXIT_KAFKA
    print(f"Kafka      {kafka_line}", flush=True)
    log_file = workdir / "demo.log" if terminal else None
    options = SessionOptions(
        terminal=terminal, refresh=args.refresh, log_file=str(log_file) if log_file else None
    )
    try:
        with _logs_to(log_file):
            asyncio.run(_main(settings.with_bootstrap(lease.bootstrap_servers), series, options))
    except RoleFailedError as exc:
        print(f"cprbroker demo: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except asyncio.CancelledError:
        print("cprbroker demo: stopped without draining (second signal)", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InputError as exc:
        print(f"cprbroker demo: {exc}", file=sys.stderr)
        return EXIT_SETTINGS
    except InfrastructureError as exc:
        print(f"cprbroker demo: {exc}", file=sys.stderr)
        return EXIT_KAFKA
    except OSError as exc:  # a port taken, a folder not writable
        print(f"cprbroker demo: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        lease.release()
        print("cprbroker demo: stopped; no process left behind", flush=True)
    return 0


async def _main(settings: RunSettings, series: SeriesInBackground, options: SessionOptions) -> None:
    stop = asyncio.Event()
    with stop_on_signals(stop):
        await run_session(settings, series, options, sys.stdout, stop)


@contextlib.contextmanager
def _logs_to(path: Path | None) -> Iterator[None]:
    """Send log lines to ``path`` instead of stderr while in the block (the
    logging set-up writes to whatever ``sys.stderr`` is at the time)."""
    if path is None:
        yield
        return
    original = sys.stderr
    with path.open("a", encoding="utf-8") as log_file:
        sys.stderr = log_file
        try:
            yield
        finally:
            sys.stderr = original
