"""A compiled Avro binary writer for the event model's dataclasses.

fastavro writes a dict; the processor would first turn every event, with its
whole person snapshot, into nested dicts and then have fastavro walk them
again, which together cost several times the rest of the derivation. This
module compiles the writer schema once into functions that write the model
objects straight into a ``bytearray``, reading each record field as the
attribute of the same name (the model's dataclasses carry the Avro field
names; see :mod:`cprbroker.core.events.serial`). A record's writer is Python
source generated from the schema, strings written inline, so most of an
event costs no function call per field.

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

import keyword
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

Write = Callable[[bytearray, Any], None]
Branch = Callable[[Any], str]


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
        # A record refers to its writer through this cell until it is compiled,
        # so that a (directly or indirectly) recursive type compiles.
        cell: list[Write] = []

        def write_later(out: bytearray, value: Any) -> None:
            cell[0](out, value)

        self._writers[name] = write_later
        fields = self._named[name]["fields"]
        compiled = _record_source([(f["name"], f["type"], self) for f in fields])
        namespace: dict[str, Any] = {
            "write_long": write_long,
            "DEFAULTS": [(f["name"], f.get("default")) for f in fields],
            **compiled.helpers,
        }
        # The writer is Python source generated from the schema (names of
        # variables and fields only, never data), compiled once: straight-line
        # code per field instead of a function call per string.
        exec(compile(compiled.source, f"<avro writer {name}>", "exec"), namespace)  # noqa: S102
        record: Write = namespace["write"]
        if name in self._memo_records:
            record = _memoized(record)
        cell.append(record)
        self._writers[name] = record
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


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True, slots=True)
class _Source:
    source: str
    helpers: dict[str, Write]


def _string_lines(var: str, indent: str) -> list[str]:
    return [
        f"{indent}data = {var}.encode('utf-8')",
        f"{indent}size = len(data)",
        f"{indent}if size < 64:",
        f"{indent}    out.append(size << 1)",
        f"{indent}else:",
        f"{indent}    write_long(out, size)",
        f"{indent}out += data",
    ]


def _optional(schema: Any) -> tuple[int, int, Any] | None:
    """(null index, other index, other schema) of a two-branch union with null."""
    if isinstance(schema, list) and len(schema) == 2 and "null" in schema:
        null_index = schema.index("null")
        return null_index, 1 - null_index, schema[1 - null_index]
    return None


def _is_string(schema: Any) -> bool:
    return schema == "string" or (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not schema.keys() - {"type", "doc"}
    )


def _record_source(fields: list[tuple[str, Any, _Compiler]]) -> _Source:
    """The source of ``write(out, value)`` for a record: its fields read as
    attributes (the schema's default for any the value lacks), strings and
    optional strings written inline, every other type through its compiled
    writer."""
    helpers: dict[str, Write] = {}
    names = [field_name for field_name, _, _ in fields]
    for field_name in names:
        # Avro names are identifiers; anything else must not reach the source.
        if not _NAME.fullmatch(field_name) or keyword.iskeyword(field_name):
            raise SchemaNotSupportedError(f"field name {field_name!r:.40} is not an identifier")
    members = [f"m{i}" for i in range(len(fields))]
    lines = ["def write(out, value):"]
    if members:
        lines.append("    try:")
        lines.extend(f"        {m} = value.{n}" for m, n in zip(members, names, strict=True))
        lines.append("    except AttributeError:")
        lines.append(f"        {', '.join(members)}, = [getattr(value, n, d) for n, d in DEFAULTS]")
    for i, (_, schema, compiler) in enumerate(fields):
        var = members[i]
        optional = _optional(schema)
        if _is_string(schema):
            lines.extend(_string_lines(var, "    "))
        elif optional is not None and _is_string(optional[2]):
            null_index, index, _ = optional
            lines += [
                f"    if {var} is None:",
                f"        out.append({null_index << 1})",
                "    else:",
                f"        out.append({index << 1})",
                *_string_lines(var, "        "),
            ]
        else:
            helper = f"w{i}"
            helpers[helper] = compiler.writer(schema)
            lines.append(f"    {helper}(out, {var})")
    if not fields:
        lines.append("    pass")
    return _Source("\n".join(lines) + "\n", helpers)


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
