"""The README's examples are real files; these tests keep them working."""

from __future__ import annotations

import importlib.util
import json
import time
from pathlib import Path
from types import ModuleType

from aiohttp.test_utils import TestClient, TestServer

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.delivery.signing import generate_secret, signature_header
from cprbroker.core.events.apply import apply_extract
from cprbroker.core.events.replica import InMemoryReplica

REPO = Path(__file__).resolve().parents[2]


def example(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"example_{name}", REPO / "examples" / f"{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_read_events_decodes_what_the_processor_writes_with_only_the_schema_files() -> None:
    reader = example("read_events")
    extract = parse_extract(
        (REPO / "tests/fixtures/cpr/example-a-move-and-protection.txt").read_bytes(), source="a"
    )
    events = apply_extract(extract, InMemoryReplica(), load_catalogue(), allow_gap=True).events
    assert events
    codec = default_codec()
    schemas = reader.load_writer_schemas(REPO / "schemas")
    decoded = [reader.decode(codec.encode(event), schemas) for event in events]
    assert [
        (e["type"], e["pnr"], e["municipality_before"], e["municipality_after"]) for e in decoded
    ] == [(e.type, e.pnr, e.municipality_before, e.municipality_after) for e in events]
    assert ("cpr.person.moved", "0701614011", "0851", "0101") in [
        (e["type"], e["pnr"], e["municipality_before"], e["municipality_after"]) for e in decoded
    ]


async def test_receiver_accepts_signed_deliveries_once_and_refuses_forgeries() -> None:
    receiver = example("receiver")
    secret = generate_secret()
    app = receiver.build_app(secret)
    body = json.dumps({"specversion": "1.0", "type": "cpr.person.moved"}).encode()
    async with TestClient(TestServer(app)) as client:
        now = int(time.time())
        headers = {
            "webhook-id": "msg_1",
            "webhook-timestamp": str(now),
            "webhook-signature": signature_header([secret], "msg_1", now, body),
            "content-type": "application/cloudevents+json",
        }
        for _ in range(2):  # a retry carries the same webhook-id
            response = await client.post("/cpr-events", data=body, headers=headers)
            assert response.status == 204
        forged = dict(
            headers,
            **{"webhook-signature": signature_header([generate_secret()], "msg_1", now, body)},
        )
        response = await client.post("/cpr-events", data=body, headers=forged)
        assert response.status == 401
    assert app[receiver.RECEIVED] == {"msg_1": body}
