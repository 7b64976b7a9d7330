"""The Avro codec of business events: single-object encoding, round trip,
schema resolution by fingerprint, and interoperability with a plain reader."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any

import avro.io
import fastavro
import pytest
from fastavro.schema import load_schema

from cprbroker.adapters.avro_codec import (
    EVENT_SCHEMA_NAME,
    EventCodec,
    default_codec,
    load_schemas,
    schemas_dir,
)
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import BusinessEvent, DomainChange, event_id
from cprbroker.core.events.model import (
    Address,
    CivilStatus,
    Custody,
    Domain,
    Name,
    Parent,
    Parents,
    PersonStatus,
    Protection,
    Snapshot,
)
from cprbroker.core.events.serial import event_to_dict

REPO = Path(__file__).resolve().parents[2]
PNR = "0701614011"

SNAPSHOT = Snapshot(
    pnr=PNR,
    status=PersonStatus("01", "2024-03-04T15:36"),
    sex="M",
    birth_date="1961-01-07",
    occupation="Pilot",
    name=Name("Aksel", None, "Sander", "Sander,Aksel", "1961-01-07T00:00"),
    address=Address(
        municipality="0101",
        road_code="1234",
        house_number="012",
        floor="03",
        door="th",
        moved_in_at="2024-03-04T15:36",
        municipality_moved_in_at="2024-03-04T15:36",
        previous_municipality="0851",
        supplementary_lines=("Bagbygningen",),
        city="København",
    ),
    civil_status=CivilStatus("G", spouse_pnr="0707614226", since="1990-05-01T12:00"),
    protections=(Protection("0001", "2024-03-04", "2025-03-04"),),
    parents=Parents(mother=Parent(pnr="0101401234"), father=None),
    children=("0101901234", "0202951234"),
    custody=(Custody("0003", "2000-01-01", None, "0101401234"),),
)


def _event(change: DomainChange | None, event_type: str = "cpr.person.moved") -> BusinessEvent:
    return BusinessEvent(
        id=event_id("907001-2024-03-05", PNR, event_type, "A01", None),
        type=event_type,
        pnr=PNR,
        cpr_event_code="A01",
        derived_mark=None,
        occurred_at="2024-03-04T15:36",
        production_date="2024-03-05",
        file_id="907001-2024-03-05",
        municipality_before="0851",
        municipality_after="0101",
        change=change,
        snapshot=SNAPSHOT,
        active_protections=SNAPSHOT.protections,
    )


CHANGES = [
    None,
    DomainChange(Domain.ADDRESS, None, SNAPSHOT.address),
    DomainChange(
        Domain.ADDRESS, dataclasses.replace(SNAPSHOT.address, floor="st"), SNAPSHOT.address
    ),  # type: ignore[arg-type]
    DomainChange(Domain.PROTECTION, (), SNAPSHOT.protections),
    DomainChange(Domain.CHILDREN, ("0101901234",), SNAPSHOT.children),
    DomainChange(Domain.PNR, None, "0101611234"),
    DomainChange(Domain.STATUS, PersonStatus("01"), PersonStatus("90", "2024-03-03T12:00")),
    DomainChange(Domain.CIVIL_STATUS, SNAPSHOT.civil_status, CivilStatus("E", "0708614327")),
    DomainChange(Domain.NAME, None, SNAPSHOT.name),
    DomainChange(Domain.PARENTS, None, SNAPSHOT.parents),
]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.domain.key if c else "none")
def test_round_trip_gives_the_same_event(change: DomainChange | None) -> None:
    codec = default_codec()
    event = _event(change)
    assert codec.decode(codec.encode(event)) == event


def _rabin_fingerprint(data: bytes) -> int:
    # CRC-64-AVRO exactly as the Avro specification writes it out.
    empty = 0xC15D213AA4D7A795
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (empty & -(fp & 1))
        table.append(fp)
    fp = empty
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


def test_header_is_marker_and_little_endian_rabin_fingerprint_of_canonical_form() -> None:
    codec = default_codec()
    message = codec.encode(_event(None))
    assert message[:2] == b"\xc3\x01"
    canonical = fastavro.schema.to_parsing_canonical_form(codec.schema)
    expected = _rabin_fingerprint(canonical.encode()).to_bytes(8, "little")
    assert message[2:10] == expected
    # The specification's own example value for the schema "int".
    assert _rabin_fingerprint(b'"int"').to_bytes(8, "little").hex() == "8f5c393f1ad57572"


def test_a_plain_reader_with_only_the_avsc_files_decodes() -> None:
    # The avro library (not fastavro) parses the .avsc files on its own,
    # computes its own fingerprint and reads the body.
    from test_schemas_compat import parse_world

    texts = {
        p.name.removesuffix(".avsc"): p.read_text("utf-8") for p in REPO.glob("schemas/*.avsc")
    }
    schema = parse_world(texts)[EVENT_SCHEMA_NAME]
    message = default_codec().encode(_event(CHANGES[1]))
    assert message[2:10] == schema.fingerprint("CRC-64-AVRO")
    reader = avro.io.DatumReader(schema, schema)
    record: dict[str, Any] = reader.read(avro.io.BinaryDecoder(io.BytesIO(message[10:])))
    assert record["type"] == "cpr.person.moved"
    assert record["municipality_before"] == "0851"
    assert record["change"]["after"]["municipality"] == "0101"
    assert record["snapshot"]["protections"] == [
        {"type": "0001", "start": "2024-03-04", "end": "2025-03-04"}
    ]


def test_data_from_an_older_writer_schema_decodes_with_defaults(tmp_path: Path) -> None:
    # An older BusinessEvent without active_protections: its writer schema is
    # found by fingerprint and resolved to today's, which fills the default.
    for path in schemas_dir().glob("*.avsc"):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    envelope = tmp_path / f"{EVENT_SCHEMA_NAME}.avsc"
    document = json.loads(envelope.read_text("utf-8"))
    document["fields"] = [f for f in document["fields"] if f["name"] != "active_protections"]
    envelope.write_text(json.dumps(document), "utf-8")
    older = EventCodec.from_directory(tmp_path)
    record = event_to_dict(_event(CHANGES[3]), avro=True)
    del record["active_protections"]
    message = older.encode_record(record)

    codec = EventCodec.from_directory()
    with pytest.raises(EventFormatError, match="unknown writer schema"):
        codec.decode(message)
    assert codec.add_writer_schema(older.schema) == message[2:10]
    decoded = codec.decode(message)
    assert decoded == dataclasses.replace(_event(CHANGES[3]), active_protections=())


def test_decoding_refuses_other_encodings() -> None:
    codec = default_codec()
    message = codec.encode(_event(None))
    with pytest.raises(EventFormatError, match="C3 01"):
        codec.decode(b"\x00\x00" + message[2:])
    with pytest.raises(EventFormatError, match="unknown writer schema fingerprint"):
        codec.decode(message[:2] + bytes(8) + message[10:])
    with pytest.raises(EventFormatError, match="malformed Avro body"):
        codec.decode(message[:40])
    with pytest.raises(EventFormatError, match="trailing bytes"):
        codec.decode(message + b"\x00")


def test_encoding_refuses_an_event_that_does_not_fit() -> None:
    record = event_to_dict(_event(None), avro=True)
    record["snapshot"] = {"pnr": PNR}
    with pytest.raises(EventFormatError, match=EVENT_SCHEMA_NAME):
        default_codec().encode_record(record)


def test_schemas_load_by_file_name_once() -> None:
    schemas = load_schemas(schemas_dir())
    assert EVENT_SCHEMA_NAME in schemas
    assert len(schemas) == len(list(schemas_dir().glob("*.avsc")))
    # fastavro resolves a file's named references from the files beside it.
    assert (
        load_schema(str(schemas_dir() / f"{EVENT_SCHEMA_NAME}.avsc"))["name"] == EVENT_SCHEMA_NAME
    )


def test_a_file_whose_name_disagrees_with_its_type_is_refused(tmp_path: Path) -> None:
    (tmp_path / "dk.cprbroker.v1.Wrong.avsc").write_text(
        json.dumps(
            {"type": "record", "name": "Right", "namespace": "dk.cprbroker.v1", "fields": []}
        )
    )
    with pytest.raises(EventFormatError, match="file name says"):
        load_schemas(tmp_path)
