"""``cprbroker api``: serve the subscription REST API until SIGTERM or SIGINT.

Settings come from flags, else ``CPRBROKER_*`` variables and
``KAFKA_BOOTSTRAP_SERVERS`` (see :meth:`ApiSettings.with_environ`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from dataclasses import replace
from pathlib import Path

import structlog

from cprbroker.api.runner import start_api
from cprbroker.api.settings import ApiSettings, split_list
from cprbroker.core.errors import CprBrokerError, InputError

log = structlog.get_logger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``api`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "api",
        help="serve the subscription REST API (/v1, /healthz, /readyz)",
        description=(
            "Serve the subscription REST API. State lives in Kafka (KAFKA_BOOTSTRAP_SERVERS); "
            "settings also come from CPRBROKER_API_HOST, CPRBROKER_API_PORT, "
            "CPRBROKER_API_MAX_BODY_BYTES, CPRBROKER_CALLBACK_ALLOW_CIDRS, "
            "CPRBROKER_EVENT_CATALOGUE, CPRBROKER_KNOWN_PNRS_TOPIC and CPRBROKER_TOPIC_<NAME>."
        ),
    )
    add_kafka_options(parser)
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to bind (default 8080)")
    parser.add_argument(
        "--allow-callback-cidr",
        action="append",
        metavar="CIDR",
        help="admit callback URLs resolving into this network although private, loopback "
        "or link-local (repeatable; also a comma-separated list)",
    )
    parser.add_argument("--max-body-bytes", type=int, help="largest request body (default 1 MiB)")
    parser.add_argument("--catalogue", type=Path, help="event catalogue TOML file")
    parser.set_defaults(handler=_serve)


def add_kafka_options(parser: argparse.ArgumentParser) -> None:
    """The Kafka option the API-side commands share."""
    parser.add_argument(
        "--bootstrap-servers", help="Kafka bootstrap servers (default $KAFKA_BOOTSTRAP_SERVERS)"
    )


def settings_from(args: argparse.Namespace) -> ApiSettings:
    """The API settings: defaults, then the environment, then the flags given."""
    settings = ApiSettings().with_environ(os.environ)
    cidrs = getattr(args, "allow_callback_cidr", None)
    overrides = {
        "bootstrap_servers": args.bootstrap_servers,
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "max_body_bytes": getattr(args, "max_body_bytes", None),
        "event_catalogue": getattr(args, "catalogue", None),
        "callback_allow_cidrs": (
            tuple(c for entry in cidrs for c in split_list(entry)) if cidrs else None
        ),
    }
    return replace(settings, **{k: v for k, v in overrides.items() if v is not None})


def _serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        return asyncio.run(serve(settings))
    except InputError as exc:
        print(f"cprbroker api: {exc}", file=sys.stderr)
        return 2
    except CprBrokerError as exc:
        print(f"cprbroker api: {exc}", file=sys.stderr)
        return 1


async def serve(settings: ApiSettings) -> int:
    """Run the API until SIGTERM or SIGINT, then drain and stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    api = await start_api(settings)
    print(f"cprbroker api listening on {api.url}", file=sys.stderr)
    try:
        await stop.wait()
    finally:
        log.info("api.stopping")
        await api.stop()
    return 0
