"""``cprbroker audit [--client C] [--pnr P] [--since T]``: read the audit trail back.

Prints one JSON object per line for every matching entry on the audit topic,
up to its end as of the call. This is where CPR numbers may be printed: the
operator asks for them on purpose.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime

from cprbroker.adapters.audit_log import read_audit
from cprbroker.commands.api import add_kafka_options, settings_from
from cprbroker.core.audit import AuditQuery
from cprbroker.core.cpr.pnr import is_valid_pnr
from cprbroker.core.errors import CprBrokerError, InputError, SettingsError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``audit`` to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "audit",
        help="print audit entries (JSON lines), filtered by client, CPR number and time",
        description="Reads the audit topic (KAFKA_BOOTSTRAP_SERVERS, CPRBROKER_TOPIC_AUDIT).",
    )
    add_kafka_options(parser)
    parser.add_argument("--client", help="only entries of this API client")
    parser.add_argument("--pnr", help="only entries naming this CPR number")
    parser.add_argument(
        "--since",
        help="only entries at or after this ISO 8601 time or date (UTC unless an offset is given)",
    )
    parser.set_defaults(handler=_audit)


def parse_since(text: str) -> datetime:
    """``text`` as an aware datetime (naive times and plain dates are UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise SettingsError(f"--since {text!r} is not an ISO 8601 date or time") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _audit(args: argparse.Namespace) -> int:
    try:
        if args.pnr is not None and not is_valid_pnr(args.pnr):
            raise SettingsError("--pnr must be 10 digits forming a valid birth date")
        query = AuditQuery(
            client=args.client,
            pnr=args.pnr,
            since=parse_since(args.since) if args.since else None,
        )
        return asyncio.run(_print(args, query))
    except InputError as exc:
        print(f"cprbroker audit: {exc}", file=sys.stderr)
        return 2
    except CprBrokerError as exc:
        print(f"cprbroker audit: {exc}", file=sys.stderr)
        return 1


async def _print(args: argparse.Namespace, query: AuditQuery) -> int:
    settings = settings_from(args)
    async for entry in read_audit(settings.bootstrap_servers, settings.topics.audit, query):
        print(json.dumps(entry.to_document(), ensure_ascii=False))
    return 0
