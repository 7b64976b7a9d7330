"""The messages on ``cpr.person-records``: one person's records from one file,
and the end-of-file marks ingest writes after a file's persons.

A person message (key = the PNR, 10 ASCII digits) carries everything the
processor needs to derive that person's events without the file: the file's
000 record (OPGAVENR, PRODDTO, PRODDTOFORRIG), whether it is a full extract,
the file's name, and the person's records as they stood in the file (padded to
full length) with their line numbers, so an error can still name file and line.

An end-of-file mark (key ``!file-end``) is written to every partition once all
persons of a file are on the topic; a processor that reads it on a partition
knows that partition holds the whole file.

A person message's value is a header, a line feed, and the records: the
header is UTF-8 JSON (``{"v": 1, "kind": "person", "file": {...}, "lines":
[...]}``), the records are the file's own ISO-8859-1 text, one per line, full
length. (JSON-escaping a kilobyte of records per person cost several times
more than the rest of ingest.) An end-of-file mark is the JSON header alone.
A reader refuses other versions with a
:class:`~cprbroker.core.errors.EventFormatError` naming the JSON pointer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from cprbroker.core.cpr.compiled import COMPILED
from cprbroker.core.cpr.records import PersonRecords, Record
from cprbroker.core.errors import EventFormatError, RecordError
from cprbroker.core.events.event import ExtractMeta
from cprbroker.core.events.sequence import FileMark

FORMAT_VERSION = 1
FILE_END_KEY = b"!file-end"
KIND_PERSON = "person"
KIND_FILE_END = "file-end"


@dataclass(frozen=True, slots=True)
class FileInfo:
    """The file a message comes from: its 000 record, whether it is a full
    extract (initial load), and its name (for error messages)."""

    file_id: str
    task_number: str
    production_date: str
    previous_production_date: str | None
    full: bool
    source: str

    @classmethod
    def of(cls, meta: ExtractMeta, *, full: bool, source: str) -> FileInfo:
        """The file described by ``meta`` (:func:`~cprbroker.core.events.apply.extract_meta`)."""
        return cls(
            file_id=meta.file_id,
            task_number=meta.task_number,
            production_date=meta.production_date,
            previous_production_date=meta.previous_production_date,
            full=full,
            source=source,
        )

    @property
    def meta(self) -> ExtractMeta:
        """What events need to know about the file."""
        return ExtractMeta(
            file_id=self.file_id,
            production_date=self.production_date,
            task_number=self.task_number,
            previous_production_date=self.previous_production_date,
        )

    @property
    def mark(self) -> FileMark:
        """Where the file stands in the sequence of extracts."""
        return FileMark(self.task_number, self.production_date, self.previous_production_date)

    def to_json(self) -> dict[str, Any]:
        """The ``file`` member of a message."""
        return {
            "id": self.file_id,
            "task": self.task_number,
            "prod": self.production_date,
            "prev": self.previous_production_date,
            "full": self.full,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: object) -> FileInfo:
        """The ``file`` member read back; EventFormatError names the bad member."""
        if not isinstance(data, dict):
            raise EventFormatError(f"/file: expected an object, got {type(data).__name__}")
        prev = data.get("prev")
        return cls(
            file_id=_text(data, "id"),
            task_number=_text(data, "task"),
            production_date=_text(data, "prod"),
            previous_production_date=None if prev is None else _text(data, "prev"),
            full=_flag(data, "full"),
            source=_text(data, "source"),
        )


@dataclass(frozen=True, slots=True)
class PersonMessage:
    """One person's records from one file."""

    pnr: str
    file: FileInfo
    records: PersonRecords


@dataclass(frozen=True, slots=True)
class FileEnd:
    """Every person of ``file`` is on the topic before this mark, on
    ``partition`` (one of ``partitions``); ``persons`` counts the whole file."""

    file: FileInfo
    partition: int
    partitions: int
    persons: int


def encode_person(file: FileInfo, person: PersonRecords) -> bytes:
    """The message value for ``person`` (the key is ``person.pnr``)."""
    lines, raws = person.raw_records()
    header = {
        "v": FORMAT_VERSION,
        "kind": KIND_PERSON,
        "file": file.to_json(),
        "lines": lines,
    }
    body = "\n".join(raws)
    return _json(header) + b"\n" + body.encode("latin-1")


def encode_file_end(end: FileEnd) -> bytes:
    """The message value of an end-of-file mark (key :data:`FILE_END_KEY`)."""
    document = {
        "v": FORMAT_VERSION,
        "kind": KIND_FILE_END,
        "file": end.file.to_json(),
        "partition": end.partition,
        "partitions": end.partitions,
        "persons": end.persons,
    }
    return _json(document)


def _json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document)


def decode(key: bytes | None, value: bytes | None) -> PersonMessage | FileEnd:
    """A message read from the topic.

    Raises :class:`EventFormatError` for anything that is not a well-formed
    message of this version; the message names the JSON pointer and never
    repeats record contents.
    """
    if value is None:
        raise EventFormatError("/: empty message (a tombstone)")
    header, _, body = value.partition(b"\n")
    try:
        document = orjson.loads(header)
    except orjson.JSONDecodeError as exc:
        raise EventFormatError(f"/: header is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise EventFormatError(f"/: expected an object, got {type(document).__name__}")
    if document.get("v") != FORMAT_VERSION:
        raise EventFormatError(f"/v: format version {document.get('v')!r} is not {FORMAT_VERSION}")
    file = FileInfo.from_json(document.get("file"))
    kind = document.get("kind")
    if kind == KIND_FILE_END:
        return FileEnd(
            file=file,
            partition=_count(document, "partition"),
            partitions=_count(document, "partitions"),
            persons=_count(document, "persons"),
        )
    if kind != KIND_PERSON:
        raise EventFormatError(f"/kind: unknown message kind {kind!r}")
    pnr = key.decode("ascii", "replace") if key else ""
    if len(pnr) != 10 or not pnr.isdigit():
        raise EventFormatError("key: expected a PNR of 10 digits")
    raws = body.decode("latin-1").split("\n") if body else []
    return PersonMessage(pnr=pnr, file=file, records=_records(pnr, document, raws, file.source))


def _records(pnr: str, document: dict[str, Any], raws: list[str], source: str) -> PersonRecords:
    lines = document.get("lines")
    if not raws:
        raise EventFormatError("/records: no records after the header")
    if not isinstance(lines, list) or len(lines) != len(raws):
        raise EventFormatError("/lines: expected one line number per record")
    records: list[Record] = []
    for index, (line, raw) in enumerate(zip(lines, raws, strict=True)):
        if len(raw) < 13:
            raise EventFormatError(f"/records/{index}: expected a record of at least 13 characters")
        if not isinstance(line, int):
            raise EventFormatError(f"/lines/{index}: expected an integer")
        if raw[3:13] != pnr:
            raise EventFormatError(
                f"/records/{index}: {source} line {line} belongs to another person than the key"
            )
        records.append(_record(raw, line, index))
    return PersonRecords.of(pnr, records)


def _record(raw: str, line: int, index: int) -> Record:
    layout = COMPILED.get(raw[:3])
    if layout is None:
        raise EventFormatError(f"/records/{index}: unknown record type {raw[:3]!r}")
    if len(raw) != layout.length:
        raise EventFormatError(
            f"/records/{index}: record {raw[:3]!r} has {len(raw)} characters, "
            f"its layout {layout.length}"
        )
    # Ingest published only records the parser accepted; the fields are not
    # checked again (a record damaged on the way fails when it is read, and
    # the processor dead-letters its person).
    return Record(raw[:3], line, raw)


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str):
        raise EventFormatError(f"/file/{key}: expected a string, got {type(value).__name__}")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if not isinstance(value, bool):
        raise EventFormatError(f"/file/{key}: expected true or false, got {type(value).__name__}")
    return value


def _count(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EventFormatError(f"/{key}: expected a non-negative integer, got {value!r}")
    return value


def dead_letter_headers(stage: str, error: BaseException) -> list[tuple[str, bytes]]:
    """Headers of a dead letter: which role refused it (``ingest`` or
    ``processor``), the error's class and its message (truncated to 4 KiB)."""
    return [
        ("cpr_stage", stage.encode()),
        ("cpr_error_type", type(error).__name__.encode()),
        ("cpr_error", str(error).encode("utf-8")[:4096]),
    ]


def encode_rejected(file: FileInfo, error: RecordError) -> bytes:
    """The dead letter of a person ingest refused: the file, and where and why
    (the person's records are not in it: the parser dropped them)."""
    document = {
        "v": FORMAT_VERSION,
        "kind": "rejected",
        "file": file.to_json(),
        "line": error.line,
        "record_type": error.record_type,
        "field": error.field,
        "reason": error.reason,
        "error": str(error),
    }
    return _json(document)
