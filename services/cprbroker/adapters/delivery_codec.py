"""A faster reader of the events on ``cpr.events`` for the delivery role.

The fan-out decodes every event it reads, and fastavro's schemaless reader
spends most of its time per call on the schema rather than the bytes (about
100 microseconds for a 340-byte event). :class:`EventReader` compiles the
current ``BusinessEvent`` schema once into Python source (one function per
record type, every read inline) and decodes the messages written with that
schema itself, about four times as fast; anything else (an older writer
schema, a malformed message) goes to
:class:`~cprbroker.adapters.avro_codec.EventCodec`, which resolves schemas
and names the error. Both give the same dict (the tests compare them), in
fastavro's form with ``return_record_name`` and ``return_record_name_override``:
a union of one record type gives the record, a union of several gives
``(record name, record)``. The wire format is the codec's; nothing here writes.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

from cprbroker.adapters.avro_codec import EventCodec

Reader = Callable[[bytes, int], tuple[Any, int]]
"""Reads one value at a position; returns it and the position after it."""

_HEADER = 10  # C3 01 + the 8-byte schema fingerprint
_PRIMITIVES = frozenset(
    {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
)  # fmt: skip
_FLOAT = struct.Struct("<f")
_DOUBLE = struct.Struct("<d")


class UnsupportedSchemaError(Exception):
    """The schema uses something these readers do not compile (a logical type)."""


def _long(data: bytes, pos: int) -> tuple[int, int]:
    byte = data[pos]
    pos += 1
    value = byte & 0x7F
    shift = 7
    while byte & 0x80:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
    return (value >> 1) ^ -(value & 1), pos


class _Source:
    """Python source of the readers of a parsed fastavro schema: one function
    per record type, with every field, union branch and varint read inline
    (a call per field costs more than the read itself). Names from the schema
    appear only as quoted literals; variables and functions are numbered."""

    def __init__(self, named: Mapping[str, Any]) -> None:
        self._named = named
        self._functions: dict[str, str] = {}
        self._bodies: list[str] = []
        self._count = 0

    def _var(self) -> str:
        self._count += 1
        return f"v{self._count}"

    def module(self, schema: Any) -> tuple[str, str]:
        """The source of every function, and the name of the top-level one."""
        top = self._record_function(schema)
        return "\n\n".join(self._bodies), top

    def _record_function(self, schema: Mapping[str, Any]) -> str:
        name = str(schema["name"])
        if name in self._functions:
            return self._functions[name]
        function = self._functions[name] = f"read_{len(self._functions)}"
        lines = [f"def {function}(d, p):", "    n = len(d)"]
        fields = []
        for field in schema["fields"]:
            target = self._var()
            self._value(field["type"], target, lines, 1)
            fields.append(f"{str(field['name'])!r}: {target}")
        lines.append(f"    return {{{', '.join(fields)}}}, p")
        self._bodies.append("\n".join(lines))
        return function

    def _resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema not in _PRIMITIVES:
            if schema not in self._named:
                raise UnsupportedSchemaError(f"unknown named type {schema!r}")
            return self._named[schema]
        return schema

    def _value(self, schema: Any, target: str, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        schema = self._resolve(schema)
        if isinstance(schema, list):
            self._union(schema, target, lines, depth)
            return
        kind = schema if isinstance(schema, str) else schema["type"]
        if isinstance(schema, dict) and "logicalType" in schema:
            raise UnsupportedSchemaError(f"logical type {schema['logicalType']!r}")
        if kind == "null":
            lines.append(f"{pad}{target} = None")
        elif kind == "boolean":
            lines.append(f"{pad}{target} = d[p] == 1; p += 1")
        elif kind in ("int", "long"):
            _long_into(target, lines, pad)
        elif kind in ("float", "double"):
            width, unpack = (4, "_FLOAT") if kind == "float" else (8, "_DOUBLE")
            lines.append(f"{pad}{target} = {unpack}.unpack_from(d, p)[0]; p += {width}")
        elif kind in ("string", "bytes"):
            size = self._var()
            _long_into(size, lines, pad)
            lines.append(f"{pad}if {size} < 0 or p + {size} > n: raise ValueError('past the end')")
            decode = ".decode('utf-8')" if kind == "string" else ""
            lines.append(f"{pad}{target} = d[p:p + {size}]{decode}; p += {size}")
        elif kind == "record":
            lines.append(f"{pad}{target}, p = {self._record_function(schema)}(d, p)")
        elif kind == "enum":
            index = self._var()
            _long_into(index, lines, pad)
            symbols = tuple(str(symbol) for symbol in schema["symbols"])
            lines.append(f"{pad}if not 0 <= {index} < {len(symbols)}: raise ValueError('enum')")
            lines.append(f"{pad}{target} = {symbols!r}[{index}]")
        elif kind == "fixed":
            fixed = int(schema["size"])
            lines.append(f"{pad}if p + {fixed} > n: raise ValueError('past the end')")
            lines.append(f"{pad}{target} = d[p:p + {fixed}]; p += {fixed}")
        elif kind in ("array", "map"):
            self._blocks(schema, kind, target, lines, depth)
        else:
            raise UnsupportedSchemaError(f"type {kind!r}")

    def _blocks(
        self, schema: Mapping[str, Any], kind: str, target: str, lines: list[str], depth: int
    ) -> None:
        pad, inner = "    " * depth, "    " * (depth + 1)
        count, item, key = self._var(), self._var(), self._var()
        lines.append(f"{pad}{target} = []" if kind == "array" else f"{pad}{target} = {{}}")
        _long_into(count, lines, pad)
        lines.append(f"{pad}while {count}:")
        lines.append(f"{inner}if {count} < 0: {count} = -{count}; _, p = _long(d, p)")
        lines.append(f"{inner}for _ in range({count}):")
        if kind == "array":
            self._value(schema["items"], item, lines, depth + 2)
            lines.append(f"{inner}    {target}.append({item})")
        else:
            self._value("string", key, lines, depth + 2)
            self._value(schema["values"], item, lines, depth + 2)
            lines.append(f"{inner}    {target}[{key}] = {item}")
        _long_into(count, lines, inner)

    def _union(self, branches: list[Any], target: str, lines: list[str], depth: int) -> None:
        pad, inner = "    " * depth, "    " * (depth + 1)
        names = [self._branch_name(branch) for branch in branches]
        if sum(name is not None for name in names) == 1:
            # One record type in the union: fastavro's override gives the record alone.
            names = [None for _ in names]
        index = self._var()
        _long_into(index, lines, pad)
        for number, (branch, name) in enumerate(zip(branches, names, strict=True)):
            lines.append(f"{pad}{'if' if number == 0 else 'elif'} {index} == {number}:")
            self._value(branch, target, lines, depth + 1)
            if name is not None:
                lines.append(f"{inner}{target} = ({name!r}, {target})")
        lines.append(f"{pad}else: raise ValueError('union index out of range')")

    def _branch_name(self, branch: Any) -> str | None:
        """The name a union reports with a value of ``branch``, if a record."""
        resolved = self._resolve(branch)
        if isinstance(resolved, dict) and resolved.get("type") in {"enum", "fixed"}:
            # fastavro counts named enums and fixeds as records in a union: not compiled.
            raise UnsupportedSchemaError(f"union of named {resolved['type']!r}")
        if isinstance(resolved, dict) and resolved.get("type") == "record":
            return str(resolved["name"])
        return None


def _long_into(target: str, lines: list[str], pad: str) -> None:
    # Union indexes, lengths and counts almost always fit in one byte.
    lines.append(f"{pad}{target} = d[p]")
    lines.append(f"{pad}if {target} < 128: {target} = ({target} >> 1) ^ -({target} & 1); p += 1")
    lines.append(f"{pad}else: {target}, p = _long(d, p)")


def compile_reader(schema: Mapping[str, Any]) -> Reader:
    """The reader of records of the parsed fastavro ``schema`` (a record);
    UnsupportedSchemaError for a schema using what it does not compile."""
    named = schema.get("__named_schemas", {})
    source, top = _Source(named).module(schema)
    namespace: dict[str, Any] = {"_long": _long, "_FLOAT": _FLOAT, "_DOUBLE": _DOUBLE}
    exec(compile(source, f"<reader of {schema['name']}>", "exec"), namespace)  # noqa: S102 - our own source
    reader: Reader = namespace[top]
    return reader


class EventReader:
    """Decodes single-object-encoded events as :meth:`EventCodec.decode_record`
    does, quicker for those written with the codec's current schema."""

    def __init__(self, codec: EventCodec) -> None:
        self._codec = codec
        self._fingerprint = codec.fingerprint
        try:
            self._read: Reader | None = compile_reader(codec.schema)
        except UnsupportedSchemaError:
            self._read = None

    def decode_record(self, data: bytes) -> dict[str, Any]:
        """The Avro-form dict of a single-object-encoded event; EventFormatError
        (from the codec) when it is not one."""
        read = self._read
        if read is not None and data[2:_HEADER] == self._fingerprint and data[:2] == b"\xc3\x01":
            try:
                record, end = read(data, _HEADER)
            except (IndexError, ValueError, UnicodeDecodeError, struct.error):
                pass  # the codec says what is wrong with it
            else:
                if end == len(data) and isinstance(record, dict):
                    return record
        return self._codec.decode_record(data)
