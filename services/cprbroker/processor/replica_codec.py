"""The processor's replica entry for one person, as stored in its table.

An entry is the person's last :class:`Snapshot` and the file it came from
(file id and PRODDTO), which is how the processor recognises a person's
records from a file it has already applied (re-ingested after a crash, or
again on purpose) and derives nothing from them twice.

Stored as compact UTF-8 JSON ``{"f": file id, "d": PRODDTO, "s": snapshot}``,
the snapshot in the field names of the Avro ``PersonSnapshot`` record (as
:func:`~cprbroker.core.events.serial.snapshot_to_dict`) with null and empty
members left out. The converters are compiled once per model class from its
type hints, because the replica is read and written once per person and the
generic walk in ``serial`` costs several times more.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from cprbroker.core.errors import ReplicaStoreError
from cprbroker.core.events.model import Snapshot

Convert = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class ReplicaEntry:
    """One person in the replica: the snapshot after ``file_id``."""

    file_id: str
    production_date: str
    snapshot: Snapshot

    def has_applied(self, file_id: str, production_date: str) -> bool:
        """Whether a file (id, PRODDTO) is already reflected in this entry:
        the same file, or one older than the file this entry came from."""
        return file_id == self.file_id or production_date < self.production_date


def _identity(value: Any) -> Any:
    return value


def _converters(tp: Any, memo: dict[type, tuple[Convert, Convert]]) -> tuple[Convert, Convert]:
    """(to plain, from plain) for a field type of the model."""
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        (inner,) = (arg for arg in typing.get_args(tp) if arg is not type(None))
        encode, decode = _converters(inner, memo)
        if encode is _identity:
            return _identity, _identity
        return (
            lambda v: None if v is None else encode(v),
            lambda v: None if v is None else decode(v),
        )
    if origin is tuple:
        encode, decode = _converters(typing.get_args(tp)[0], memo)
        if encode is _identity:
            return list, tuple
        return (lambda v: [encode(i) for i in v], lambda v: tuple(decode(i) for i in v))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _class_converters(tp, memo)
    return _identity, _identity


def _class_converters(
    cls: type, memo: dict[type, tuple[Convert, Convert]]
) -> tuple[Convert, Convert]:
    if cls in memo:
        return memo[cls]
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    fields = {name: _converters(hints[name], memo) for name in names}
    encoders = [(name, fields[name][0]) for name in names]
    decoders = {name: convert[1] for name, convert in fields.items()}

    def encode(value: Any) -> dict[str, Any]:
        plain: dict[str, Any] = {}
        for name, convert in encoders:
            member = getattr(value, name)
            if member is not None and member != ():
                plain[name] = convert(member)
        return plain

    def decode(plain: Any) -> Any:
        # Members this version does not know are ignored (a newer writer).
        return cls(**{k: decoders[k](v) for k, v in plain.items() if k in decoders})

    memo[cls] = (encode, decode)
    return encode, decode


_SNAPSHOT_TO_PLAIN, _SNAPSHOT_FROM_PLAIN = _class_converters(Snapshot, {})


def encode_entry(entry: ReplicaEntry) -> bytes:
    """The stored form of ``entry``."""
    document = {
        "f": entry.file_id,
        "d": entry.production_date,
        "s": _SNAPSHOT_TO_PLAIN(entry.snapshot),
    }
    return orjson.dumps(document)


def decode_entry(data: bytes) -> ReplicaEntry:
    """The entry stored as ``data``; ReplicaStoreError if it is unreadable
    (the message never repeats its contents)."""
    try:
        document = orjson.loads(data)
        snapshot = _SNAPSHOT_FROM_PLAIN(document["s"])
        file_id, production_date = document["f"], document["d"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ReplicaStoreError(
            f"replica entry is unreadable: {type(exc).__name__} in a {len(data)}-byte entry"
        ) from exc
    if not isinstance(file_id, str) or not isinstance(production_date, str):
        raise ReplicaStoreError("replica entry is unreadable: file id or PRODDTO is not a string")
    return ReplicaEntry(file_id, production_date, snapshot)
