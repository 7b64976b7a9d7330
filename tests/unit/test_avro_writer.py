"""The compiled Avro writer gives fastavro's bytes, for every event shape.

fastavro (writing the dict form of :func:`event_to_dict`) is the reference:
the codec's compiled writer must produce the same bytes for any snapshot,
change and protection list, including texts beyond one-byte lengths and
characters outside ASCII.
"""

from __future__ import annotations

import dataclasses
import io
import types
import typing
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cprbroker.adapters.avro_codec import EVENT_SCHEMA_NAME, default_codec
from cprbroker.adapters.avro_writer import SchemaNotSupportedError, compile_writer, write_long
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import BusinessEvent, DomainChange
from cprbroker.core.events.model import (
    Domain,
)
from cprbroker.core.events.serial import DOMAIN_TYPES, event_to_dict

# ISO-8859-1 letters (CPR's alphabet) and some wider ones: UTF-8 lengths differ.
TEXT = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF), max_size=90)


def _strategy(tp: Any) -> st.SearchStrategy[Any]:
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        (inner,) = (arg for arg in typing.get_args(tp) if arg is not type(None))
        return st.none() | _strategy(inner)
    if origin is tuple:
        return st.lists(_strategy(typing.get_args(tp)[0]), max_size=3).map(tuple)
    if tp is str:
        return TEXT
    assert dataclasses.is_dataclass(tp)
    hints = typing.get_type_hints(tp)
    fields = {f.name: _strategy(hints[f.name]) for f in dataclasses.fields(tp)}
    return st.builds(tp, **fields)


CHANGES = st.none() | st.sampled_from(list(Domain)).flatmap(
    lambda domain: st.builds(
        DomainChange,
        st.just(domain),
        _strategy(DOMAIN_TYPES[domain]),
        _strategy(DOMAIN_TYPES[domain]),
    )
)
EVENTS = st.builds(
    BusinessEvent,
    **{
        f.name: CHANGES
        if f.name == "change"
        else _strategy(typing.get_type_hints(BusinessEvent)[f.name])
        for f in dataclasses.fields(BusinessEvent)
    },
)


def _reference(event: BusinessEvent) -> bytes:
    codec = default_codec()
    body = io.BytesIO()
    fastavro.schemaless_writer(body, codec.schema, event_to_dict(event, avro=True))
    return b"\xc3\x01" + codec.fingerprint + body.getvalue()


def test_every_domain_is_covered() -> None:
    assert set(DOMAIN_TYPES) == set(Domain)


@settings(max_examples=300, deadline=None)
@given(EVENTS)
def test_compiled_writer_gives_fastavros_bytes(event: BusinessEvent) -> None:
    assert default_codec().encode(event) == _reference(event)


@settings(max_examples=50, deadline=None)
@given(st.lists(EVENTS, min_size=2, max_size=4), st.data())
def test_events_sharing_a_snapshot_encode_it_once_and_correctly(
    events: list[BusinessEvent], data: st.DataObject
) -> None:
    # The events of one person share their snapshot object; the writer reuses
    # its last encoding only for that very object.
    shared = events[0].snapshot
    sharing = [dataclasses.replace(e, snapshot=shared) for e in events[:2]] + events[2:]
    order = data.draw(st.permutations(sharing + sharing[:1]))
    codec = default_codec()
    assert [codec.encode(e) for e in order] == [_reference(e) for e in order]


@pytest.mark.parametrize("value", [0, 1, -1, 63, 64, -65, 8191, 8192, 2**31, -(2**40)])
def test_long_is_a_zigzag_varint(value: int) -> None:
    out = bytearray()
    write_long(out, value)
    reference = io.BytesIO()
    fastavro.schemaless_writer(reference, "long", value)
    assert bytes(out) == reference.getvalue()


@pytest.mark.parametrize(
    "schema",
    [
        "int",
        {"type": "record", "name": "R", "fields": [{"name": "n", "type": "long"}]},
        {"type": "map", "values": "string"},
        ["null", "string", "int"],
        {"type": "record", "name": "R", "fields": [{"name": "a; import os", "type": "string"}]},
        {"type": "record", "name": "R", "fields": [{"name": "class", "type": "string"}]},
    ],
    ids=["int", "long field", "map", "union of primitives", "odd field name", "keyword"],
)
def test_schemas_beyond_the_supported_avro_are_refused(schema: Any) -> None:
    with pytest.raises(SchemaNotSupportedError):
        compile_writer(schema)


@settings(max_examples=20, deadline=None)
@given(EVENTS)
def test_an_event_that_does_not_fit_is_refused(event: BusinessEvent) -> None:
    broken = dataclasses.replace(event, snapshot=typing.cast(Any, None))
    with pytest.raises(EventFormatError, match=EVENT_SCHEMA_NAME):
        default_codec().encode(broken)
