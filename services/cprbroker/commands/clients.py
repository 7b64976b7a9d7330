"""``cprbroker clients create|list|revoke``: the subscribing systems allowed to call the API.

Clients live in the compacted clients topic, so every API process sees a new
client (and a revocation) within moments. ``create`` prints the bearer token
on stdout, once; only its SHA-256 hash is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from cprbroker.adapters.client_registry import kafka_client_registry
from cprbroker.commands.api import add_kafka_options, settings_from
from cprbroker.core.errors import CprBrokerError, InputError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``clients`` and its sub-commands to the ``cprbroker`` parser."""
    parser = subparsers.add_parser(
        "clients",
        help="create, list and revoke API clients (subscribing systems)",
        description=(
            "API clients are kept in Kafka (KAFKA_BOOTSTRAP_SERVERS, CPRBROKER_TOPIC_CLIENTS)."
        ),
    )
    actions = parser.add_subparsers(dest="clients_action", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="register a client and print its token once")
    add_kafka_options(create)
    create.add_argument("--name", required=True, help="client name (a-z, 0-9, '.', '_', '-')")
    create.add_argument(
        "--event-types",
        nargs="+",
        metavar="TYPE",
        help="event types the client may subscribe to (default: all)",
    )
    create.add_argument(
        "--protected-data",
        action="store_true",
        help="may see name and address of persons with name-and-address protection",
    )
    create.add_argument(
        "--admin", action="store_true", help="sees and changes every client's subscriptions"
    )
    create.set_defaults(handler=_create)

    listing = actions.add_parser("list", help="every client, one JSON object per line")
    add_kafka_options(listing)
    listing.set_defaults(handler=_list)

    revoke = actions.add_parser("revoke", help="refuse a client's token from now on")
    add_kafka_options(revoke)
    revoke.add_argument("name", help="client name")
    revoke.set_defaults(handler=_revoke)


def _run(args: argparse.Namespace, action: str) -> int:
    try:
        return asyncio.run(_act(args, action))
    except InputError as exc:
        print(f"cprbroker clients {action}: {exc}", file=sys.stderr)
        return 2
    except CprBrokerError as exc:
        print(f"cprbroker clients {action}: {exc}", file=sys.stderr)
        return 1


async def _act(args: argparse.Namespace, action: str) -> int:
    settings = settings_from(args)
    async with kafka_client_registry(
        settings.bootstrap_servers, settings.topics.clients, partitions=settings.topic_partitions
    ) as registry:
        if action == "create":
            event_types = None
            if args.event_types:
                event_types = [t for entry in args.event_types for t in entry.split(",") if t]
            client, token = await registry.create(
                args.name,
                event_types=event_types,
                protected_data=args.protected_data,
                admin=args.admin,
            )
            print(token)
            print(
                f"client {client.name!r} created; the token above is shown only now",
                file=sys.stderr,
            )
        elif action == "list":
            for client in registry.clients():
                print(json.dumps(client.describe()))
        else:
            revoked = await registry.revoke(args.name)
            print(f"client {revoked.name!r} revoked", file=sys.stderr)
    return 0


def _create(args: argparse.Namespace) -> int:
    return _run(args, "create")


def _list(args: argparse.Namespace) -> int:
    return _run(args, "list")


def _revoke(args: argparse.Namespace) -> int:
    return _run(args, "revoke")
