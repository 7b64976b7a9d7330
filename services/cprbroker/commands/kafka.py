"""``cprbroker kafka fetch|start|stop|status``: a local single-node Kafka for development.

When ``KAFKA_BOOTSTRAP_SERVERS`` is set, the project uses that cluster:
``start`` and ``stop`` then start and stop nothing, and ``status`` asks that
cluster. Paths, Java and heap come from options or ``CPRBROKER_KAFKA_*``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from cprbroker.adapters.local_kafka import (
    broker_status,
    read_state,
    start_broker,
    stop_broker,
)
from cprbroker.adapters.local_kafka_jars import fetch_jars
from cprbroker.adapters.local_kafka_probe import answers_metadata
from cprbroker.adapters.local_kafka_settings import LocalKafkaSettings, default_project_root
from cprbroker.core.errors import CprBrokerError

BOOTSTRAP_ENV = "KAFKA_BOOTSTRAP_SERVERS"

# LSB init-script convention for `status`: 3 = not running.
_EXIT_NOT_RUNNING = 3


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``kafka`` and its sub-commands to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "kafka",
        help="fetch, start, stop a local single-node Apache Kafka (KRaft)",
        description=(
            "A local single-node Apache Kafka (KRaft) for development and tests. When "
            f"{BOOTSTRAP_ENV} is set, start and stop do nothing and status asks that cluster. "
            "Paths, Java and heap come from the options or CPRBROKER_KAFKA_* variables "
            "(JARS_DIR, STATE_DIR, JAVA, MVN, HEAP_MB, PORT, QUICK_JIT, START_TIMEOUT, "
            "STOP_TIMEOUT)."
        ),
    )
    actions = parser.add_subparsers(dest="kafka_action", metavar="ACTION", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, help="broker state (default .cache/kafka/run)")
    common.add_argument("--jars-dir", type=Path, help="broker jars (default .cache/kafka/libs)")
    common.add_argument("--java", help="java binary (default $JAVA_HOME/bin/java or java)")

    fetch = actions.add_parser(
        "fetch", parents=[common], help="fetch the broker jars from Maven Central (idempotent)"
    )
    fetch.add_argument("--force", action="store_true", help="run Maven even if up to date")
    fetch.set_defaults(handler=_fetch)

    start = actions.add_parser(
        "start", parents=[common], help="start the broker and wait until it answers"
    )
    start.add_argument("--port", type=int, help="client port (default: a free one)")
    start.add_argument("--heap-mb", type=int, help="JVM heap in MB (default 512)")
    start.add_argument("--timeout", type=float, help="seconds to wait for readiness")
    start.set_defaults(handler=_start)

    stop = actions.add_parser("stop", parents=[common], help="stop the broker by its PID")
    stop.set_defaults(handler=_stop)

    status = actions.add_parser(
        "status", parents=[common], help="is it running and answering? (exit 3 if not)"
    )
    status.set_defaults(handler=_status)


def _settings(args: argparse.Namespace) -> LocalKafkaSettings:
    settings = LocalKafkaSettings.for_project(default_project_root()).with_environ(os.environ)
    overrides = {
        "state_dir": args.state_dir,
        "jars_dir": args.jars_dir,
        "java": args.java,
        "port": getattr(args, "port", None),
        "heap_mb": getattr(args, "heap_mb", None),
        "start_timeout_s": getattr(args, "timeout", None),
    }
    changes = {key: value for key, value in overrides.items() if value is not None}
    return replace(settings, **changes)


def _external() -> str | None:
    return os.environ.get(BOOTSTRAP_ENV, "").strip() or None


def _fail(action: str, exc: CprBrokerError) -> int:
    print(f"cprbroker kafka {action}: error: {exc}", file=sys.stderr)
    return 1


def _fetch(args: argparse.Namespace) -> int:
    try:
        outcome = fetch_jars(_settings(args), force=args.force)
    except CprBrokerError as exc:
        return _fail("fetch", exc)
    size_mb = outcome.total_bytes / 1e6
    if outcome.mode == "up-to-date":
        print(f"kafka jars up to date: {outcome.jars} jars, {size_mb:.0f} MB; nothing fetched")
    else:
        print(
            f"kafka jars fetched (maven {outcome.mode}): {outcome.jars} jars, {size_mb:.0f} MB, "
            f"{outcome.downloaded} artifacts downloaded, {outcome.seconds:.1f} s"
        )
    return 0


def _start(args: argparse.Namespace) -> int:
    if (external := _external()) is not None:
        print(f"{BOOTSTRAP_ENV}={external} is set: using that cluster, starting nothing")
        return 0
    try:
        settings = _settings(args)
        status = broker_status(settings)
        if status.running and status.state is not None:
            print(
                f"kafka already running: pid {status.state.pid}, "
                f"bootstrap {status.state.bootstrap_servers}"
            )
            print(f"export {BOOTSTRAP_ENV}={status.state.bootstrap_servers}")
            return 0
        began = time.monotonic()
        state = start_broker(settings)
    except CprBrokerError as exc:
        return _fail("start", exc)
    print(
        f"kafka started in {time.monotonic() - began:.1f} s: pid {state.pid}, "
        f"bootstrap {state.bootstrap_servers}, log {state.server_log}"
    )
    print(f"export {BOOTSTRAP_ENV}={state.bootstrap_servers}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    if (external := _external()) is not None:
        print(f"{BOOTSTRAP_ENV}={external} is set: that cluster is not ours to stop")
        return 0
    try:
        settings = _settings(args)
        state = read_state(settings.state_dir)
        result = stop_broker(settings)
    except CprBrokerError as exc:
        return _fail("stop", exc)
    if result == "not-running":
        print(f"kafka not running (state {settings.state_dir})")
    else:
        pid = state.pid if state is not None else "?"
        print(f"kafka {result}: pid {pid}")
    return 0


def _status(args: argparse.Namespace) -> int:
    if (external := _external()) is not None:
        try:
            answering = answers_metadata(external)
        except CprBrokerError as exc:
            return _fail("status", exc)
        verdict = "answering" if answering else "NOT answering"
        print(f"external cluster {external} ({BOOTSTRAP_ENV}): {verdict}")
        return 0 if answering else 1
    try:
        settings = _settings(args)
        status = broker_status(settings)
    except CprBrokerError as exc:
        return _fail("status", exc)
    if not status.running or status.state is None:
        print(f"kafka not running (state {settings.state_dir})")
        return _EXIT_NOT_RUNNING
    state = status.state
    print(
        f"kafka running: pid {state.pid}, bootstrap {state.bootstrap_servers}, "
        f"{'answering' if status.answering else 'NOT answering'} metadata requests, "
        f"since {state.started_at}, log {state.server_log}"
    )
    return 0 if status.answering else 1
