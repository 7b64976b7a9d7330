"""Parse CPR extract files (cpr-domain.md §2.1, §7.1).

:func:`parse_extract` reads a whole delta file: ISO-8859-1, fixed-width
records, normally one per line (trailing spaces may be trimmed, CRLF or LF),
or concatenated without line breaks (each record's length then comes from its
type; CR/LF between records are skipped, and "line" means the record's
ordinal). :func:`parse_records` reads a fragment without 000/999 framing.

Two kinds of failure:

- :class:`~cprbroker.core.errors.FramingError`: the file as a whole is refused
  (wrong encoding, missing or misplaced 000/999, counter mismatch, a truncated
  or unreadable record in a file without line breaks).
- :class:`~cprbroker.core.errors.RecordError`: one record is bad (a field that
  is not well-formed, an invalid PNR, an unknown record type in a line-broken
  file, a line too long). The person it belongs to is left out and the error
  is listed in ``rejected``; the rest of the file is parsed.

Whatever the bytes, these functions raise nothing but
:class:`~cprbroker.core.errors.ExtractError` subclasses.
"""

from __future__ import annotations

import functools
import gc
import re
from collections.abc import Callable

from cprbroker.core.cpr.compiled import (
    COMPILED,
    CompiledLayout,
    lines_pattern,
    rare_lines_pattern,
)
from cprbroker.core.cpr.framing import (
    check_encoding,
    parse_end,
    parse_start,
    split_fixed_length,
    split_lines,
)
from cprbroker.core.cpr.grouping import (
    bad_pnr,
    bad_related_pnr,
    born_ok,
    group_checked,
    keep_other,
    person_of,
)
from cprbroker.core.cpr.records import Extract, PersonRecords, RecordSet
from cprbroker.core.errors import FramingError, RecordError

__all__ = ["parse_extract", "parse_records"]


_Entry = tuple[int, Callable[[str], "re.Match[str] | None"], tuple[tuple[str, int, int], ...], int]


def _entries(strict: bool) -> dict[str, _Entry]:
    """Per data record type: (length, whole-record pattern, other PNR spans, role)."""
    table: dict[str, _Entry] = {}
    for code, compiled in COMPILED.items():
        if code in ("000", "999"):
            continue
        role = 1 if code in ("910", "997") else 0  # 0: a person record
        whole = compiled.whole if strict else compiled.whole_unchecked_text
        table[code] = (compiled.length, whole.fullmatch, compiled.pnr_spans, role)
    return table


_STRICT = _entries(strict=True)
_FAST = _entries(strict=False)
_DATA_LAYOUTS = {code: COMPILED[code] for code in _FAST}


@functools.cache
def _lines(*, strict: bool, crlf: bool) -> re.Pattern[bytes]:
    return lines_pattern(_DATA_LAYOUTS, strict=strict, crlf=crlf)


@functools.cache
def _rare_lines_pattern() -> re.Pattern[bytes]:
    return rare_lines_pattern(_DATA_LAYOUTS, ("910", "997"))


def parse_extract(data: bytes, *, source: str) -> Extract:
    """Parse a whole delta file (000 ... 999).

    ``source`` names the file in every error. Raises :class:`FramingError` if
    the file as a whole is refused; bad records are reported in
    ``Extract.rejected`` and their persons left out of ``Extract.persons``.
    """
    records, strict, rare = _split(data, source, framed=True)
    if not records:
        raise FramingError(source, "no records")
    start = parse_start(records[0], source)
    if len(records) < 2 or not records[-1].startswith("999"):
        raise FramingError(
            source,
            "the last record is not the end record 999 (is the file truncated?)",
            line=len(records),
        )
    end = parse_end(records[-1], source, line=len(records))
    last_line = len(records)
    body = records  # the data records, in place: a file may hold millions
    del body[-1], body[0]
    result = Extract(source=source, start=start, end=end)
    # Records first: a misplaced 000/999 is a more precise diagnosis than the
    # counter mismatch it also causes.
    _collect(body, 2, source, strict, result, rare=rare)
    if end.counter != len(body):
        raise FramingError(
            source,
            f"end record 999 counts {end.counter} data records but the file has {len(body)}",
            line=last_line,
        )
    return result


def _split(data: bytes, source: str, *, framed: bool) -> tuple[list[str], bool, list[int] | None]:
    """Check the encoding and split ``data`` into records (see framing).
    Returns the records, whether text fields need a per-character check, and,
    if every record between the first and the last is already known to be a
    well-formed data record at full length, the lines among them to look at
    one by one (see :func:`_body_well_formed`)."""
    check_encoding(data, source)
    line_broken = _line_broken(data) if framed else (b"\n" in data or b"\r" in data)
    if not line_broken:
        text = data.decode("latin-1")
        return (*split_fixed_length(text, data, source, COMPILED), None)
    records, strict = split_lines(data)
    return records, strict, _body_well_formed(data, records, strict) if framed else None


def _line_broken(data: bytes) -> bool:
    """Whether records stand one per line: the first line holds the 35-character
    start record and nothing but blanks after it. (Concatenated records put the
    next record right after the start record, and may have no line break at all.)"""
    first_break = data.find(b"\n")
    if first_break < 0:
        return False
    return not data[35:first_break].strip(b" \r")


def _body_well_formed(data: bytes, records: list[str], strict: bool) -> list[int] | None:
    """If the lines between the first and the last non-empty line are all
    well-formed data records at full length (one pattern over the whole file
    costs far less than one match per record): the indices among them of the
    910 and 997 records and of the records with a related CPR number born on
    29 February, in order. Otherwise ``None``."""
    first = data.find(b"\n") + 1
    end = len(data)
    while end > first and data[end - 1] in b"\r\n":
        end -= 1
    last = data.rfind(b"\n", 0, end) + 1
    if last <= first:
        return [] if len(records) <= 2 else None
    # The lines checked must be exactly the records between the first and the
    # last (a stray CR at the end may make the split differ).
    if data.count(b"\n", first, last) != len(records) - 2:
        return None
    if _lines(strict=strict, crlf=b"\r" in data).fullmatch(data, first, last) is None:
        return None
    return _rare_lines(data, first, last)


def _rare_lines(data: bytes, first: int, last: int) -> list[int]:
    """The indices of the lines in ``data[first:last]`` (line 0 starting at
    ``first``) that are 910 or 997 records or have a related CPR number
    starting with 2902, in order."""
    rare: list[int] = []
    index, counted = 0, first - 1  # line 0 follows the line break at first - 1
    for found in _rare_lines_pattern().finditer(data, first - 1, last):
        index += data.count(b"\n", counted, found.start())
        counted = found.start()
        rare.append(index)
    return rare


def parse_records(data: bytes, *, source: str) -> RecordSet:
    """Parse a fragment: data records without 000/999 framing.

    Line breaks are optional as in :func:`parse_extract`. A 000 or 999 record
    in a fragment is a :class:`FramingError`.
    """
    records, strict, _ = _split(data, source, framed=False)
    result = RecordSet(source=source)
    _collect(records, 1, source, strict, result)
    return result


def _collect(
    body: list[str],
    first_line: int,
    source: str,
    strict: bool,
    result: RecordSet,
    *,
    rare: list[int] | None = None,
) -> None:
    """Check every data record in ``body`` and group the good ones by PNR.

    ``body[i]`` is on line ``first_line + i``. Trimmed records are padded in
    place, so ``body`` then holds every record at full length; the persons
    keep it and read their records from it. If ``rare`` is not None, every
    record is already known to be well-formed at full length, and so are its
    related CPR numbers unless its index is in ``rare`` (see
    :func:`_body_well_formed`).
    """
    # The records are not cyclic; collecting cycles while millions of objects
    # are created costs more than the parse itself.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if rare is not None:
            groups = group_checked(body, first_line, source, result, _FAST, rare)
        else:
            groups = _check_records(body, first_line, source, strict, result)
        result.record_count += len(body)
        refused = result.rejected_pnrs
        result.persons.extend(
            PersonRecords(pnr, indices, body, first_line)
            for pnr, indices in groups.items()
            if pnr not in refused
        )
    finally:
        if collecting:
            gc.enable()


def _check_records(
    body: list[str], first_line: int, source: str, strict: bool, result: RecordSet
) -> dict[str, list[int]]:
    """The hot loop: per record, one dict lookup and one regular-expression
    match; per person, one PNR check. Returns PNR -> indices into ``body``."""
    table = _STRICT if strict else _FAST
    groups: dict[str, list[int]] = {}
    errors = result.rejected
    born_cache: dict[str, bool] = {}
    last_pnr = ""
    last_group: list[int] = []
    for index, text in enumerate(body):
        entry = table.get(text[:3])
        if entry is None:
            errors.append(_unknown_type(text, first_line + index, source))
            continue
        length, fullmatch, spans, role = entry
        line = text
        if len(line) != length:
            if len(line) > length and line[length:].strip(" "):
                errors.append(_too_long(line, length, first_line + index, source))
                continue
            line = body[index] = line[:length] if len(line) > length else line.ljust(length)
        if fullmatch(line) is None:
            errors.append(_bad_field(COMPILED[line[:3]], line, first_line + index, source))
            continue
        pnr = line[3:13]
        if role:  # 910 error records and 997 receipts
            keep_other(line, first_line + index, source, born_cache, result)
            continue
        # A person's records usually stand together: skip the dict then.
        if pnr == last_pnr:
            group = last_group
        else:
            found = groups.get(pnr)
            if found is None:
                if not born_ok(pnr, born_cache):
                    errors.append(bad_pnr(line, "PNR", pnr, first_line + index, source, pnr))
                    continue
                found = groups[pnr] = []
            group, last_pnr, last_group = found, pnr, found
        if spans:
            bad = bad_related_pnr(line, spans, born_cache)
            if bad is not None:
                errors.append(bad_pnr(line, *bad, first_line + index, source, pnr))
                continue
        group.append(index)
    return groups


def _unknown_type(line: str, line_no: int, source: str) -> RecordError:
    record_type = line[:3]
    if record_type in ("000", "999"):
        what = "start" if record_type == "000" else "end"
        raise FramingError(
            source,
            f"{what} record {record_type} where a data record belongs",
            line=line_no,
        )
    reason = "empty line" if not line else "unknown record type"
    return RecordError(
        source=source,
        line=line_no,
        record_type=record_type,
        field="RECORDTYPE",
        value=record_type,
        reason=reason,
        pnr=person_of(line),
    )


def _too_long(line: str, length: int, line_no: int, source: str) -> RecordError:
    return RecordError(
        source=source,
        line=line_no,
        record_type=line[:3],
        field="(after the record's end)",
        value=line[length:],
        reason=f"line is {len(line)} characters, record {line[:3]} has {length}",
        pnr=person_of(line),
    )


def _bad_field(compiled: CompiledLayout, line: str, line_no: int, source: str) -> RecordError:
    name, raw, reason, is_pnr = compiled.first_problem(line)
    return RecordError(
        source=source,
        line=line_no,
        record_type=compiled.record_type,
        field=name,
        value=raw,
        reason=reason,
        pnr=person_of(line) if compiled.has_key_pnr else None,
        value_in_message=not is_pnr,
    )
