"""A compiled Avro binary writer for the event model's dataclasses.

fastavro writes a dict; the processor would first turn every event, with its
whole person snapshot, into nested dicts and then have fastavro walk them
again, which together cost several times the rest of the derivation. This
module compiles the writer schema once into a tree of small functions that
write the model objects straight into a ``bytearray``, reading each record
field as the attribute of the same name (the model's dataclasses carry the
Avro field names; see :mod:`cprbroker.core.events.serial`).

It covers exactly the Avro the schemas use (null, string, records, arrays,
unions) and refuses a schema with anything else when it is compiled, so a
schema change cannot silently produce wrong bytes. The tests hold its output
byte for byte against ``fastavro.schemaless_writer`` on the dict form.

A union with more than one non-null branch needs ``branch(value)``, which
names the branch record of a value (for the event's ``change``, the change
record of its domain).

Records named in ``memo_records`` keep their last encoding: the events of one
person share one snapshot object, which is then encoded once.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Sequence
from typing import Any

Write = Callable[[bytearray, Any], None]
Branch = Callable[[Any], str]

_MISSING = object()


class SchemaNotSupportedError(ValueError):
    """The schema uses Avro this writer does not implement."""


def write_long(out: bytearray, value: int) -> None:
    """Append ``value`` as an Avro long (zig-zag varint)."""
    n = (value << 1) ^ (value >> 63)
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def _write_string(out: bytearray, value: str) -> None:
    data = value.encode("utf-8")
    size = len(data)
    if size < 64:  # the zig-zag varint of the size is one byte
        out.append(size << 1)
    else:
        write_long(out, size)
    out += data


def _write_null(out: bytearray, value: None) -> None:
    if value is not None:
        raise TypeError("a null field holds a value")


class _Compiler:
    def __init__(self, schema: Any, branch: Branch | None, memo_records: Collection[str]) -> None:
        self._named: dict[str, Any] = {}
        self._collect(schema)
        self._writers: dict[str, Write] = {}
        self._branch = branch
        self._memo_records = set(memo_records)

    def _collect(self, schema: Any) -> None:
        if isinstance(schema, list):
            for branch in schema:
                self._collect(branch)
        elif isinstance(schema, dict):
            kind = schema.get("type")
            if kind == "record":
                self._named[schema["name"]] = schema
                for field in schema["fields"]:
                    self._collect(field["type"])
            elif kind == "array":
                self._collect(schema["items"])
            else:
                self._collect(kind)

    def writer(self, schema: Any) -> Write:
        if isinstance(schema, str):
            if schema == "null":
                return _write_null
            if schema == "string":
                return _write_string
            if schema in self._named:
                return self._named_writer(schema)
            raise SchemaNotSupportedError(f"Avro type {schema!r} is not supported")
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, dict):
            kind = schema.get("type")
            if kind == "record":
                return self._named_writer(schema["name"])
            if kind == "array":
                return _array(self.writer(schema["items"]))
            if isinstance(kind, str) and not schema.keys() - {"type", "doc"}:
                return self.writer(kind)
        raise SchemaNotSupportedError(f"Avro schema {schema!r:.80} is not supported")

    def _named_writer(self, name: str) -> Write:
        found = self._writers.get(name)
        if found is not None:
            return found
        # Recursive types would refer to themselves while being compiled.
        fields: list[tuple[str, Write, Any]] = []
        members: dict[type, Callable[[Any], Sequence[Any]]] = {}

        def write(out: bytearray, value: Any) -> None:
            read = members.get(type(value))
            if read is None:
                read = members[type(value)] = _reader(type(value), fields)
            for (_, write_field, _), member in zip(fields, read(value), strict=True):
                write_field(out, member)

        record = write if name not in self._memo_records else _memoized(write)
        self._writers[name] = record
        fields.extend(
            (field["name"], self.writer(field["type"]), field.get("default"))
            for field in self._named[name]["fields"]
        )
        return record

    def _union(self, branches: list[Any]) -> Write:
        null_index = branches.index("null") if "null" in branches else None
        others = [(i, b) for i, b in enumerate(branches) if b != "null"]
        if len(others) == 1:
            index, schema = others[0]
            write_other = self.writer(schema)
            marker = bytes([index << 1])
            if null_index is None:

                def write_single(out: bytearray, value: Any) -> None:
                    out += marker
                    write_other(out, value)

                return write_single
            null_marker = bytes([null_index << 1])

            def write_optional(out: bytearray, value: Any) -> None:
                if value is None:
                    out += null_marker
                else:
                    out += marker
                    write_other(out, value)

            return write_optional
        return self._named_union(branches, null_index, others)

    def _named_union(
        self, branches: list[Any], null_index: int | None, others: list[tuple[int, Any]]
    ) -> Write:
        branch = self._branch
        if branch is None:
            raise SchemaNotSupportedError(f"a union of {len(branches)} branches needs branch()")
        by_name: dict[str, tuple[bytes, Write]] = {}
        for index, schema in others:
            name = schema if isinstance(schema, str) else schema.get("name")
            if name not in self._named:
                raise SchemaNotSupportedError("only unions of named records are supported")
            marker = bytearray()
            write_long(marker, index)
            by_name[name] = (bytes(marker), self.writer(schema))
        null_marker = None if null_index is None else bytes([null_index << 1])

        def write(out: bytearray, value: Any) -> None:
            if value is None and null_marker is not None:
                out += null_marker
                return
            marker, write_branch = by_name[branch(value)]
            out += marker
            write_branch(out, value)

        return write


def _reader(cls: type, fields: list[tuple[str, Write, Any]]) -> Callable[[Any], Sequence[Any]]:
    """A function giving the values of ``fields`` of an instance of ``cls``:
    one C-level ``attrgetter`` when the class has them all, else per field
    with the schema's default for what it lacks."""
    names = [name for name, _, _ in fields]
    if all(hasattr(cls, name) for name in names):
        if len(names) == 1:
            single = operator.attrgetter(names[0])
            return lambda value: (single(value),)
        return operator.attrgetter(*names)
    defaults = [(name, default) for name, _, default in fields]
    return lambda value: [
        member if (member := getattr(value, name, _MISSING)) is not _MISSING else default
        for name, default in defaults
    ]


def _array(write_item: Write) -> Write:
    def write(out: bytearray, items: Any) -> None:
        if items:
            write_long(out, len(items))
            for item in items:
                write_item(out, item)
        out.append(0)

    return write


def _memoized(write: Write) -> Write:
    last: list[Any] = [None, b""]

    def write_memo(out: bytearray, value: Any) -> None:
        # Identity, not equality: the cache holds the very object it encoded.
        if value is last[0]:
            out += last[1]
            return
        start = len(out)
        write(out, value)
        last[0], last[1] = value, bytes(out[start:])

    return write_memo


def compile_writer(
    schema: Any, *, branch: Branch | None = None, memo_records: Collection[str] = ()
) -> Write:
    """The writer of ``schema`` (a parsed fastavro schema or its JSON form);
    :class:`SchemaNotSupportedError` if it uses types this module does not
    write."""
    return _Compiler(schema, branch, memo_records).writer(schema)
