"""Avro encoding of business events, in Avro single-object encoding.

A single-object-encoded message is the two marker bytes ``C3 01``, the
8-byte little-endian CRC-64-AVRO (Rabin) fingerprint of the writer schema's
parsing canonical form, and the Avro binary body (Avro specification,
"Single-object encoding"). It needs no schema registry: a reader that knows
the writer schema finds it by fingerprint.

The schemas are the ``.avsc`` files in ``schemas/`` (one named type per file,
``<namespace>.<Name>.avsc``), loaded once with fastavro, which resolves the
named types a file refers to by file name. Events are written by the writer
compiled from that schema (:mod:`cprbroker.adapters.avro_writer`), which
gives fastavro's bytes at a fraction of the cost; dicts (``encode_record``)
and all reading go through fastavro.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import fastavro
from fastavro.schema import fingerprint, load_schema, parse_schema, to_parsing_canonical_form

from cprbroker.adapters.avro_writer import compile_writer
from cprbroker.core.errors import EventFormatError
from cprbroker.core.events.event import BusinessEvent, DomainChange
from cprbroker.core.events.serial import change_record_name, event_from_dict

SNAPSHOT_SCHEMA_NAME = "dk.cprbroker.v1.PersonSnapshot"

SINGLE_OBJECT_MARKER = b"\xc3\x01"
EVENT_SCHEMA_NAME = "dk.cprbroker.v1.BusinessEvent"
_HEADER_LENGTH = len(SINGLE_OBJECT_MARKER) + 8


def schemas_dir() -> Path:
    """The directory holding the ``.avsc`` files: ``cprbroker/schemas`` in an
    installed wheel, ``schemas/`` at the root of a source checkout."""
    package = Path(__file__).resolve().parent.parent
    candidates = (package / "schemas", package.parent.parent / "schemas")
    for candidate in candidates:
        if (candidate / f"{EVENT_SCHEMA_NAME}.avsc").is_file():
            return candidate
    raise FileNotFoundError(f"no {EVENT_SCHEMA_NAME}.avsc in {' or '.join(map(str, candidates))}")


def load_schemas(directory: Path) -> dict[str, Any]:
    """Every schema in ``directory``, parsed once, by full name.

    Each file is loaded on its own, its references resolved from the files
    beside it: fastavro leaves a type it already knows (from a shared
    ``named_schemas``) as a bare name, and the parsing canonical form of such
    a schema, so its fingerprint, would not be the standalone schema's.

    Raises :class:`EventFormatError` when a file's name is not the full name
    of the type it defines, or a file is not a valid schema.
    """
    parsed: dict[str, Any] = {}
    for path in sorted(directory.glob("*.avsc")):
        expected = path.name.removesuffix(".avsc")
        try:
            schema = load_schema(str(path))
        except (ValueError, KeyError, OSError, fastavro.schema.SchemaParseException) as exc:
            raise EventFormatError(f"{path}: not a valid Avro schema: {exc}") from exc
        name = schema.get("name") if isinstance(schema, dict) else None
        if name != expected:
            raise EventFormatError(f"{path}: defines {name!r}, file name says {expected!r}")
        parsed[expected] = schema
    return parsed


def schema_fingerprint(schema: Any) -> bytes:
    """The 8-byte little-endian CRC-64-AVRO fingerprint of ``schema``'s parsing
    canonical form (the bytes a single-object header carries)."""
    canonical = to_parsing_canonical_form(schema)
    return bytes.fromhex(fingerprint(canonical, "CRC-64-AVRO"))


class EventCodec:
    """Encode and decode :class:`BusinessEvent` as single-object Avro.

    The current ``BusinessEvent`` schema writes and is the reader schema;
    data written with an older (or other compatible) schema decodes too once
    that writer schema is known: pass it in ``writer_schemas``.
    """

    def __init__(
        self,
        schema: Any,
        *,
        writer_schemas: Iterable[Any] = (),
    ) -> None:
        self._schema = schema
        self._header = SINGLE_OBJECT_MARKER + schema_fingerprint(schema)
        self._writers: dict[bytes, Any] = {self._header[2:]: schema}
        self._write_event = compile_writer(
            schema, branch=_change_branch, memo_records={SNAPSHOT_SCHEMA_NAME}
        )
        for writer in writer_schemas:
            self.add_writer_schema(writer)

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> EventCodec:
        """A codec for the ``BusinessEvent`` schema in ``directory`` (default:
        :func:`schemas_dir`)."""
        path = (directory or schemas_dir()) / f"{EVENT_SCHEMA_NAME}.avsc"
        try:
            schema = load_schema(str(path))
        except (ValueError, KeyError, OSError, fastavro.schema.SchemaParseException) as exc:
            raise EventFormatError(f"{path}: not a valid Avro schema: {exc}") from exc
        return cls(schema)

    @property
    def schema(self) -> Any:
        """The parsed writer (and reader) schema."""
        return self._schema

    @property
    def fingerprint(self) -> bytes:
        """The fingerprint this codec writes in the header."""
        return self._header[2:]

    def add_writer_schema(self, schema: Any) -> bytes:
        """Make data written with ``schema`` (a dict or its JSON text)
        decodable; returns its fingerprint."""
        try:
            parsed = parse_schema(json.loads(schema) if isinstance(schema, str) else schema)
        except (ValueError, KeyError, fastavro.schema.SchemaParseException) as exc:
            raise EventFormatError(f"writer schema is not valid Avro: {exc}") from exc
        key = schema_fingerprint(parsed)
        self._writers[key] = parsed
        return key

    def encode(self, event: BusinessEvent) -> bytes:
        """``event`` as header + Avro body; :class:`EventFormatError` when it
        does not fit the schema."""
        out = bytearray(self._header)
        try:
            self._write_event(out, event)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise EventFormatError(f"event does not fit {EVENT_SCHEMA_NAME}: {exc}") from exc
        return bytes(out)

    def encode_record(self, record: Mapping[str, Any]) -> bytes:
        """An Avro-form event dict as header + Avro body; :class:`EventFormatError`
        when it does not fit the schema."""
        buffer = io.BytesIO()
        buffer.write(self._header)
        try:
            fastavro.schemaless_writer(buffer, self._schema, dict(record))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise EventFormatError(f"event does not fit {EVENT_SCHEMA_NAME}: {exc}") from exc
        return buffer.getvalue()

    def decode(self, data: bytes) -> BusinessEvent:
        """The event in a single-object-encoded message."""
        return event_from_dict(self.decode_record(data))

    def decode_record(self, data: bytes) -> dict[str, Any]:
        """The Avro-form dict of a single-object-encoded message, resolved
        from its writer schema (found by fingerprint) to the current schema."""
        if len(data) < _HEADER_LENGTH or data[:2] != SINGLE_OBJECT_MARKER:
            raise EventFormatError(
                "not Avro single-object encoding: expected marker C3 01, "
                f"got {data[:2].hex(' ').upper() or 'nothing'}"
            )
        key = data[2:_HEADER_LENGTH]
        writer = self._writers.get(key)
        if writer is None:
            raise EventFormatError(f"unknown writer schema fingerprint {key.hex()}")
        body = io.BytesIO(data[_HEADER_LENGTH:])
        try:
            record = fastavro.schemaless_reader(
                body,
                writer,
                self._schema,
                return_record_name=True,
                return_record_name_override=True,
            )
        except (ValueError, TypeError, KeyError, EOFError, IndexError, UnicodeDecodeError) as exc:
            raise EventFormatError(f"malformed Avro body: {exc}") from exc
        if not isinstance(record, dict):
            raise EventFormatError("Avro body is not a record")
        if body.read(1):
            raise EventFormatError("trailing bytes after the Avro body")
        return record


def _change_branch(change: DomainChange) -> str:
    """The union branch of an event's ``change``: its domain's change record."""
    return change_record_name(change.domain)


@cache
def default_codec() -> EventCodec:
    """The codec for the schemas shipped with cprbroker, built once."""
    return EventCodec.from_directory()
