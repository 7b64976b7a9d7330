"""The one command, ``cprbroker``.

Each sub-command lives in a module under :mod:`cprbroker.commands` that
exposes ``register(subparsers)``; the module registers its parser and sets
``handler`` to a function taking the parsed namespace and returning an exit
status.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence

from cprbroker.logs import configure_logging

# Order is the order shown in ``cprbroker --help``.
_COMMAND_MODULES: tuple[str, ...] = (
    "cprbroker.commands.kafka",
    "cprbroker.commands.parse",
    "cprbroker.commands.events",
    "cprbroker.commands.ingest",
    "cprbroker.commands.processor",
    "cprbroker.commands.api",
    "cprbroker.commands.clients",
    "cprbroker.commands.audit",
    "cprbroker.commands.delivery",
    "cprbroker.commands.synth",
)

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Build the full argument parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="cprbroker",
        description="CPR-replika event broker: CPR delta files in, typed events and webhooks out.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in _COMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cprbroker`` with ``argv`` (default: the process arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(os.environ.get("CPRBROKER_LOG_LEVEL", "INFO"))
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
