"""The one command, ``cprbroker``.

Each sub-command lives in a module under :mod:`cprbroker.commands` that
exposes ``register(subparsers)``; the module registers its parser and sets
``handler`` to a function taking the parsed namespace and returning an exit
status. Only the chosen command's module is imported, so ``cprbroker X`` does
not pay for importing faust, aiohttp and the rest when X needs none of them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from cprbroker.logs import configure_logging

# name -> (module, one-line summary). Order is the order shown in ``cprbroker --help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "kafka": (
        "cprbroker.commands.kafka",
        "fetch, start, stop a local single-node Apache Kafka (KRaft)",
    ),
    "parse": (
        "cprbroker.commands.parse",
        "parse CPR extract files; one JSON object per person on stdout",
    ),
    "events": (
        "cprbroker.commands.events",
        "derive business events from CPR extract files (no Kafka)",
    ),
    "ingest": (
        "cprbroker.commands.ingest",
        "publish CPR extract files to cpr.person-records (one message per person)",
    ),
    "processor": (
        "cprbroker.commands.processor",
        "derive business events from cpr.person-records onto cpr.events (faust)",
    ),
    "api": ("cprbroker.commands.api", "serve the subscription REST API (/v1, /healthz, /readyz)"),
    "clients": (
        "cprbroker.commands.clients",
        "create, list and revoke API clients (subscribing systems)",
    ),
    "audit": (
        "cprbroker.commands.audit",
        "print audit entries (JSON lines), filtered by client, CPR number and time",
    ),
    "delivery": (
        "cprbroker.commands.delivery",
        "deliver matching events to subscribers' webhooks (signed, retried, never lost)",
    ),
    "synth": (
        "cprbroker.commands.synth",
        "write a synthetic CPR population (full extract) and daily delta files",
    ),
    "run": (
        "cprbroker.commands.run",
        "every role in one process: inbox ingest, processor, delivery, API",
    ),
    "demo": (
        "cprbroker.commands.demo",
        "the whole broker on synthetic data with a live view (make run)",
    ),
}

Handler = Callable[[argparse.Namespace], int]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv``: its first argument that is not an option."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser, with ``command`` (if any) fully registered.

    Every other command appears with its summary only, which is all that
    ``cprbroker --help`` shows.
    """
    parser = argparse.ArgumentParser(
        prog="cprbroker",
        description="CPR-replika event broker: CPR delta files in, typed events and webhooks out.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module_name, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(module_name).register(subparsers)
        else:
            subparsers.add_parser(name, help=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cprbroker`` with ``argv`` (default: the process arguments)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(arguments))
    args = parser.parse_args(arguments)
    configure_logging(os.environ.get("CPRBROKER_LOG_LEVEL", "INFO"))
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
