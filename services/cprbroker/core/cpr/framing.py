"""File-level checks of a CPR extract: encoding, splitting into records, and
the 000 start and 999 end records (cpr-domain.md §2.1). Every problem here
refuses the whole file with a :class:`~cprbroker.core.errors.FramingError`."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping

from cprbroker.core.cpr.compiled import COMPILED, CompiledLayout
from cprbroker.core.cpr.records import EndRecord, StartRecord
from cprbroker.core.errors import FramingError

# Bytes that may stand anywhere in a file: printable ISO-8859-1 and CR/LF. If a
# file has nothing else, text fields need no per-character check.
_PRINTABLE_BYTES = bytes(range(0x20, 0x7F)) + bytes(range(0xA0, 0x100))
_PRINTABLE_AND_BREAKS = _PRINTABLE_BYTES + b"\r\n"
_NON_ASCII = re.compile(rb"[\x80-\xff]")


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def check_encoding(data: bytes, source: str) -> None:
    """Refuse input that is empty, binary/UTF-16 (NUL bytes) or UTF-8.

    A UTF-8 file is recognised by having non-ASCII bytes that all decode as
    UTF-8: Danish letters in ISO-8859-1 (one byte each, e.g. ``Æ`` = 0xC6
    followed by a letter) practically never form valid UTF-8 sequences.
    """
    if not data:
        raise FramingError(source, "the file is empty")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise FramingError(
            source,
            "the file contains NUL bytes: not an ISO-8859-1 text file (UTF-16 or binary?)",
            line=_line_of(data, nul),
        )
    if data.isascii():
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    found = _NON_ASCII.search(data)
    offset = found.start() if found else 0
    line = _line_of(data, offset)
    raise FramingError(
        source,
        f"the file is UTF-8 encoded (first non-ASCII character on line {line}); "
        "CPR extracts are ISO-8859-1, where Æ, Ø and Å are one byte each, so UTF-8 "
        "shifts every fixed-width field after them",
        line=line,
    )


# Decoding a whole extract to one str and then splitting it would hold the
# file three times over (bytes, str, lines); decoding a slice at a time holds
# one slice instead of the str.
_SLICE = 1 << 25


def split_lines(data: bytes) -> tuple[list[str], bool]:
    """Split a line-broken file (LF or CRLF) into records; trailing empty lines
    are dropped. Returns the records and whether text fields need a
    per-character check (the file holds bytes other than printable and CR/LF,
    or a CR inside a line)."""
    lines: list[str] = []
    stray_cr = False
    view = memoryview(data)
    start, size = 0, len(data)
    while start < size:
        # Each slice but the last ends with a line break: no line (and no
        # CRLF) is cut in two.
        stop = data.find(b"\n", min(start + _SLICE, size) - 1) + 1
        last = stop == 0
        text = str(view[start : size if last else stop], "latin-1")
        if "\r" in text:
            text = text.replace("\r\n", "\n")
            if last:
                text = text.removesuffix("\r")
            stray_cr = stray_cr or "\r" in text
        part = text.split("\n")
        if not last:
            part.pop()  # the empty string after the slice's final line break
        lines += part
        start = size if last else stop
    view.release()
    while lines and not lines[-1]:
        lines.pop()
    strict = stray_cr or bool(data.translate(None, _PRINTABLE_AND_BREAKS))
    return lines, strict


def split_fixed_length(
    text: str, data: bytes, source: str, layouts: Mapping[str, CompiledLayout]
) -> tuple[list[str], bool]:
    """Split a file without line breaks: read each record's type, take that
    layout's length, skip CR/LF between records. An unknown record type or a
    short last record refuses the file: without line breaks nothing after it
    can be found."""
    records: list[str] = []
    position, size = 0, len(text)
    while position < size:
        if text[position] in "\r\n":
            position += 1
            continue
        record_type = text[position : position + 3]
        layout = layouts.get(record_type)
        if layout is None:
            if not text[position:].strip():
                break  # trailing blanks after the last record
            raise FramingError(
                source,
                f"unknown record type {record_type!r} at character {position + 1}; in a file "
                "without line breaks the records after it cannot be found",
                line=len(records) + 1,
            )
        record = text[position : position + layout.length]
        if len(record) < layout.length:
            raise FramingError(
                source,
                f"record {record_type} is truncated: {len(record)} of {layout.length} characters",
                line=len(records) + 1,
            )
        records.append(record)
        position += layout.length
    strict = "\n" in text or "\r" in text or bool(data.translate(None, _PRINTABLE_BYTES))
    return records, strict


def _framing_record(line: str, record_type: str, source: str, line_no: int) -> str:
    """The framing record ``line`` padded to length and checked field by field."""
    compiled = COMPILED[record_type]
    if not line.startswith(record_type):
        what = "start record 000" if record_type == "000" else "end record 999"
        raise FramingError(
            source,
            f"the {'first' if record_type == '000' else 'last'} record is not the {what}"
            f" (record type {line[:3]!r})",
            line=line_no,
        )
    if len(line) > compiled.length:
        if line[compiled.length :].strip(" "):
            raise FramingError(
                source,
                f"record {record_type} is {len(line)} characters, it has {compiled.length}",
                line=line_no,
            )
        line = line[: compiled.length]
    line = line.ljust(compiled.length)
    if compiled.whole.fullmatch(line) is None:
        name, raw, reason, _ = compiled.first_problem(line)
        raise FramingError(
            source, f"record {record_type} field {name}: {reason}: {raw!r}", line=line_no
        )
    return line


def parse_start(text: str, source: str) -> StartRecord:
    """Read the 000 start record (line 1)."""
    record = _framing_record(text, "000", source, 1)
    fields = COMPILED["000"].fields
    opgavenr = record[13:19]
    start, end, convert = fields["PRODDTO"]
    production = convert(record[start:end])
    start, end, convert = fields["PRODDTOFORRIG"]
    previous = convert(record[start:end])
    if not opgavenr.strip():
        raise FramingError(source, "record 000 field OPGAVENR is blank", line=1)
    if not isinstance(production, dt.date):
        raise FramingError(source, "record 000 field PRODDTO is zero", line=1)
    return StartRecord(
        opgavenr=opgavenr,
        production_date=production,
        previous_production_date=previous if isinstance(previous, dt.date) else None,
    )


def parse_end(text: str, source: str, *, line: int) -> EndRecord:
    """Read the 999 end record, found on ``line``."""
    record = _framing_record(text, "999", source, line)
    return EndRecord(counter=int(record[13:21]))
