"""The delivery role's event reader decodes exactly as the Avro codec does."""

from __future__ import annotations

import dataclasses
import io
from typing import Any

import fastavro
import pytest
from fastavro.utils import generate_many
from tests.service.delivery_harness import make_event

from cprbroker.adapters.avro_codec import EventCodec, default_codec
from cprbroker.adapters.delivery_codec import EventReader, compile_reader
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import DomainChange
from cprbroker.core.events.model import CivilStatus, Domain, Parent, Parents, PersonStatus


def test_random_events_of_the_schema_decode_alike() -> None:
    codec = default_codec()
    reader = EventReader(codec)
    for record in generate_many(codec.schema, 300):
        data = codec.encode_record(record)
        assert reader.decode_record(data) == codec.decode_record(data)


@pytest.mark.parametrize(
    "change",
    [
        None,
        DomainChange(Domain.STATUS, PersonStatus("01"), PersonStatus("90", "2024-03-03T12:00")),
        DomainChange(Domain.CIVIL_STATUS, None, CivilStatus("G", "0708614327")),
        DomainChange(Domain.PARENTS, None, Parents(mother=Parent(pnr="0101401234"))),
        DomainChange(Domain.CHILDREN, ("0101901234",), ("0101901234", "0202951234")),
    ],
    ids=lambda c: c.domain.key if c else "none",
)
def test_events_as_the_processor_writes_them_decode_alike(change: DomainChange | None) -> None:
    codec = default_codec()
    for n, protected in ((1, False), (2, True)):
        event = make_event(n, protected=protected)
        if change is not None:
            event = dataclasses.replace(event, change=change)
        data = codec.encode(event)
        decoded = EventReader(codec).decode_record(data)
        assert decoded == codec.decode_record(data)
        assert decoded["pnr"] == event.pnr


def test_what_the_reader_cannot_read_the_codec_refuses_by_name() -> None:
    codec = default_codec()
    reader = EventReader(codec)
    data = codec.encode(make_event(1))
    with pytest.raises(EventFormatError, match="C3 01"):
        reader.decode_record(b"{}" + data[2:])
    with pytest.raises(EventFormatError, match="trailing bytes"):
        reader.decode_record(data + b"\x00")
    with pytest.raises(EventFormatError, match="malformed Avro body"):
        reader.decode_record(data[:-5])


def test_an_older_writer_schema_goes_through_the_codec() -> None:
    codec = default_codec()
    older: dict[str, Any] = {
        "type": "record",
        "name": "dk.cprbroker.v1.BusinessEvent",
        "fields": [
            {
                "name": f["name"],
                "type": f["type"],
                **({"default": f["default"]} if "default" in f else {}),
            }
            for f in codec.schema["fields"]
            if f["name"] != "active_protections"
        ],
    }
    reading = EventCodec(codec.schema)
    fingerprint = reading.add_writer_schema(older)
    record = codec.decode_record(codec.encode(make_event(3)))
    del record["active_protections"]
    body = io.BytesIO()
    fastavro.schemaless_writer(body, fastavro.parse_schema(older), record)
    data = b"\xc3\x01" + fingerprint + body.getvalue()
    assert EventReader(reading).decode_record(data) == reading.decode_record(data)


EVERY_KIND = fastavro.parse_schema(
    {
        "type": "record",
        "name": "test.Kinds",
        "fields": [
            {"name": "flag", "type": "boolean"},
            {"name": "small", "type": "int"},
            {"name": "big", "type": "long"},
            {"name": "ratio", "type": "float"},
            {"name": "precise", "type": "double"},
            {"name": "raw", "type": "bytes"},
            {"name": "text", "type": "string"},
            {
                "name": "colour",
                "type": {"type": "enum", "name": "test.Colour", "symbols": ["R", "G"]},
            },
            {"name": "digest", "type": {"type": "fixed", "name": "test.Digest", "size": 4}},
            {"name": "tags", "type": {"type": "map", "values": {"type": "array", "items": "long"}}},
            {
                "name": "either",
                "type": [
                    "null",
                    {
                        "type": "record",
                        "name": "test.A",
                        "fields": [{"name": "a", "type": "string"}],
                    },
                    {
                        "type": "record",
                        "name": "test.B",
                        "fields": [{"name": "b", "type": "test.A"}],
                    },
                ],
            },
            {"name": "maybe", "type": ["null", "test.B"]},
        ],
    }
)


def test_every_kind_of_avro_value_reads_as_fastavro_reads_it() -> None:
    read = compile_reader(EVERY_KIND)
    for record in generate_many(EVERY_KIND, 200):
        body = io.BytesIO()
        fastavro.schemaless_writer(body, EVERY_KIND, record)
        data = body.getvalue()
        expected = fastavro.schemaless_reader(
            io.BytesIO(data),
            EVERY_KIND,
            None,
            return_record_name=True,
            return_record_name_override=True,
        )
        assert read(data, 0) == (expected, len(data))
