"""Read business events from ``cpr.events`` with nothing but the schemas.

Usage: python examples/read_events.py [BOOTSTRAP_SERVERS] [SCHEMAS_DIR]

Each value is Avro single-object encoded: ``C3 01``, the 8-byte CRC-64-AVRO
fingerprint of the writer schema (little-endian), then the Avro body.
"""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path
from typing import Any

import fastavro
from aiokafka import AIOKafkaConsumer
from fastavro.schema import fingerprint, load_schema, to_parsing_canonical_form

MAGIC = b"\xc3\x01"


def load_writer_schemas(folder: Path) -> dict[bytes, Any]:
    """The event schema keyed by its fingerprint as it stands on the wire.

    ``load_schema`` resolves the named types it refers to from the files
    beside it (one file per type, named ``<namespace>.<Name>.avsc``).
    """
    schema = load_schema(str(folder / "dk.cprbroker.v1.BusinessEvent.avsc"))
    wire = bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))
    return {wire: fastavro.parse_schema(schema)}


def decode(value: bytes, writer_schemas: dict[bytes, Any]) -> dict[str, Any]:
    """One event from one ``cpr.events`` record value."""
    if value[:2] != MAGIC:
        raise ValueError("not Avro single-object encoding")
    schema = writer_schemas[value[2:10]]  # KeyError: written with a schema we do not have
    event: dict[str, Any] = fastavro.schemaless_reader(io.BytesIO(value[10:]), schema)
    return event


async def main(bootstrap_servers: str, folder: Path) -> None:
    schemas = load_writer_schemas(folder)
    consumer = AIOKafkaConsumer(
        "cpr.events",
        bootstrap_servers=bootstrap_servers,
        group_id="example-reader",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        async for message in consumer:
            event = decode(message.value, schemas)
            print(
                event["type"],
                event["cpr_event_code"],
                event["municipality_before"],
                event["municipality_after"],
            )
    finally:
        await consumer.stop()


if __name__ == "__main__":
    servers = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"
    schemas_folder = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("schemas")
    asyncio.run(main(servers, schemas_folder))
