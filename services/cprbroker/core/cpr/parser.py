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

import re

from cprbroker.core.cpr.compiled import COMPILED, CompiledLayout
from cprbroker.core.cpr.fieldspec import FieldKind
from cprbroker.core.cpr.framing import (
    check_encoding,
    parse_end,
    parse_start,
    split_fixed_length,
    split_lines,
)
from cprbroker.core.cpr.pnr import is_valid_pnr
from cprbroker.core.cpr.records import Extract, PersonRecords, Record, RecordSet
from cprbroker.core.errors import FramingError, RecordError

__all__ = ["parse_extract", "parse_records"]

_PERSON, _RECEIPT, _ERROR = 0, 1, 2
_PNR_KINDS = (FieldKind.PNR,)


def _entries(
    strict: bool,
) -> dict[str, tuple[int, re.Pattern[str], tuple[tuple[str, int, int], ...], int]]:
    """Per data record type: (length, whole-record pattern, other PNR spans, role)."""
    table = {}
    for code, compiled in COMPILED.items():
        if code in ("000", "999"):
            continue
        role = _RECEIPT if code == "997" else _ERROR if code == "910" else _PERSON
        whole = compiled.whole if strict else compiled.whole_unchecked_text
        table[code] = (compiled.length, whole, compiled.pnr_spans, role)
    return table


_STRICT = _entries(strict=True)
_FAST = _entries(strict=False)


def parse_extract(data: bytes, *, source: str) -> Extract:
    """Parse a whole delta file (000 ... 999).

    ``source`` names the file in every error. Raises :class:`FramingError` if
    the file as a whole is refused; bad records are reported in
    ``Extract.rejected`` and their persons left out of ``Extract.persons``.
    """
    check_encoding(data, source)
    text = data.decode("latin-1")
    head = text[:36]
    if "\n" in head or "\r" in head:
        records, strict = split_lines(text, data)
    else:
        records, strict = split_fixed_length(text, data, source, COMPILED)
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
    body = records[1:-1]
    if end.counter != len(body):
        raise FramingError(
            source,
            f"end record 999 counts {end.counter} data records but the file has {len(body)}",
            line=len(records),
        )
    result = Extract(source=source, start=start, end=end)
    _collect(body, 2, source, strict, result)
    return result


def parse_records(data: bytes, *, source: str) -> RecordSet:
    """Parse a fragment: data records without 000/999 framing.

    Line breaks are optional as in :func:`parse_extract`. A 000 or 999 record
    in a fragment is a :class:`FramingError`.
    """
    check_encoding(data, source)
    text = data.decode("latin-1")
    if "\n" in text or "\r" in text:
        records, strict = split_lines(text, data)
    else:
        records, strict = split_fixed_length(text, data, source, COMPILED)
    result = RecordSet(source=source)
    _collect(records, 1, source, strict, result)
    return result


def _collect(
    body: list[str], first_line: int, source: str, strict: bool, result: RecordSet
) -> None:
    """Check every data record in ``body`` and group the good ones by PNR."""
    table = _STRICT if strict else _FAST
    groups: dict[str, tuple[list[int], list[str]]] = {}
    errors = result.rejected
    valid: dict[str, bool] = {}
    line_no = first_line - 1
    for text in body:
        line_no += 1
        line = text
        entry = table.get(line[:3])
        if entry is None:
            errors.append(_unknown_type(line, line_no, source))
            continue
        length, whole, spans, role = entry
        if len(line) != length:
            if len(line) > length and line[length:].strip(" "):
                errors.append(_too_long(line, length, line_no, source))
                continue
            line = line[:length] if len(line) > length else line.ljust(length)
        if whole.fullmatch(line) is None:
            errors.append(_bad_field(COMPILED[line[:3]], line, line_no, source))
            continue
        pnr = line[3:13]
        if role == _PERSON:
            group = groups.get(pnr)
            if group is None:
                ok = valid.get(pnr)
                if ok is None:
                    ok = valid[pnr] = is_valid_pnr(pnr)
                if not ok:
                    errors.append(_bad_pnr(line, "PNR", pnr, line_no, source, person=pnr))
                    continue
                group = groups[pnr] = ([], [])
            if spans and not _related_pnrs_ok(
                line=line, line_no=line_no, source=source, spans=spans, valid=valid, errors=errors
            ):
                continue
            group[0].append(line_no)
            group[1].append(line)
        elif role == _RECEIPT:
            if not is_valid_pnr(pnr):
                errors.append(_bad_pnr(line, "PNR", pnr, line_no, source, person=pnr))
                continue
            result.receipts.append(Record(line[:3], line_no, line))
        else:
            result.error_records.append(Record(line[:3], line_no, line))
    result.record_count += len(body)
    refused = result.rejected_pnrs
    result.persons.extend(
        PersonRecords(pnr, lines, raws)
        for pnr, (lines, raws) in groups.items()
        if pnr not in refused
    )


def _related_pnrs_ok(
    *,
    line: str,
    line_no: int,
    source: str,
    spans: tuple[tuple[str, int, int], ...],
    valid: dict[str, bool],
    errors: list[RecordError],
) -> bool:
    for name, start, end in spans:
        value = line[start:end]
        if value[0] == " " or value == "0000000000":
            continue  # blank or all zeros: no related person
        ok = valid.get(value)
        if ok is None:
            ok = valid[value] = is_valid_pnr(value)
        if not ok:
            errors.append(_bad_pnr(line, name, value, line_no, source, person=line[3:13]))
            return False
    return True


def _person_of(line: str) -> str | None:
    """The PNR at 4-13 if it is one, to know which person a bad record refuses."""
    candidate = line[3:13]
    return candidate if is_valid_pnr(candidate) else None


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
        pnr=_person_of(line),
    )


def _too_long(line: str, length: int, line_no: int, source: str) -> RecordError:
    return RecordError(
        source=source,
        line=line_no,
        record_type=line[:3],
        field="(after the record's end)",
        value=line[length:],
        reason=f"line is {len(line)} characters, record {line[:3]} has {length}",
        pnr=_person_of(line),
    )


def _bad_field(compiled: CompiledLayout, line: str, line_no: int, source: str) -> RecordError:
    spec, raw, reason = compiled.first_problem(line)
    return RecordError(
        source=source,
        line=line_no,
        record_type=compiled.record_type,
        field=spec.name,
        value=raw,
        reason=reason,
        pnr=_person_of(line) if compiled.has_key_pnr else None,
        value_in_message=spec.kind not in _PNR_KINDS,
    )


def _bad_pnr(
    line: str, field: str, value: str, line_no: int, source: str, *, person: str
) -> RecordError:
    return RecordError(
        source=source,
        line=line_no,
        record_type=line[:3],
        field=field,
        value=value,
        reason="not a CPR number (10 digits, a valid birth date by the century rule)",
        pnr=person,
        value_in_message=False,
    )
