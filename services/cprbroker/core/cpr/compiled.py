"""Record layouts prepared for fast parsing.

For each layout the parser needs, precomputed once at import: one regular
expression that accepts exactly the well-formed records of that type, the
slice and converter of every field (for lazy typing), the slices of the CPR
numbers to check, and per-field patterns to name the first bad field when the
whole-record pattern does not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cprbroker.core.cpr.fieldspec import FieldKind, FieldSpec
from cprbroker.core.cpr.layouts import LAYOUTS, RecordLayout
from cprbroker.core.cpr.values import ANY, PRINTABLE, Value, converter, pattern, problem

# A text character within one line of a file whose bytes are all printable or
# CR/LF, where every CR stands before an LF. (Excluding CR too would make the
# engine test a set per character, three times slower; a CR taken as text
# cannot be followed by the CRLF that ends the line, so it is refused anyway.)
_IN_LINE = "[^\n]"


@dataclass(frozen=True, slots=True)
class CompiledLayout:
    """A :class:`RecordLayout` with what the parser precomputes for it."""

    layout: RecordLayout
    record_type: str
    length: int
    whole: re.Pattern[str]
    """Accepts exactly the well-formed records (exact length, every field)."""
    whole_unchecked_text: re.Pattern[str]
    """As ``whole``, but lets any character through in text fields: for input
    already known to hold only printable ISO-8859-1."""
    fields: Mapping[str, tuple[int, int, Callable[[str], Value]]]
    """Field name -> (start0, end0, converter)."""
    pnr_spans: tuple[tuple[str, int, int], ...]
    """CPR-number fields other than the key at 4-13: (name, start0, end0)."""
    has_key_pnr: bool
    """Positions 4-13 hold the PNR the record belongs to (not 000/910/999)."""
    checks: tuple[tuple[FieldSpec, re.Pattern[str]], ...]

    def first_problem(self, text: str) -> tuple[str, str, str, bool]:
        """For a record ``text`` that ``whole`` refused: the first bad field's
        name, its raw value, why, and whether the value is a CPR number.
        ``text`` must already have the layout's length."""
        for spec, check in self.checks:
            raw = text[spec.start - 1 : spec.end]
            if check.fullmatch(raw) is None:
                return spec.name, raw, problem(spec.kind, raw), spec.kind is FieldKind.PNR
        # Unreachable while every field pattern has a fixed width; kept so a
        # layout mistake shows as a refused record, not as a crash.
        return "(record)", text, "not a well-formed record", True


def _field_pattern(spec: FieldSpec, record_type: str, text: str = PRINTABLE) -> str:
    if spec.name == "RECORDTYPE":
        return re.escape(record_type)
    if spec.kind is FieldKind.PNR and spec.start == 4:
        # The person's own PNR is never blank.
        return f"[0-9]{{{spec.length}}}"
    return pattern(spec.kind, spec.length, text=text)


def compile_layout(layout: RecordLayout) -> CompiledLayout:
    """Prepare ``layout`` for parsing."""
    parts = [_field_pattern(spec, layout.record_type) for spec in layout.fields]
    fields = {spec.name: (spec.start - 1, spec.end, converter(spec.kind)) for spec in layout.fields}
    key = next((s for s in layout.fields if s.start == 4 and s.kind is FieldKind.PNR), None)
    pnr_spans = tuple(
        (spec.name, spec.start - 1, spec.end)
        for spec in layout.fields
        if spec.kind is FieldKind.PNR and spec is not key
    )
    return CompiledLayout(
        layout=layout,
        record_type=layout.record_type,
        length=layout.length,
        whole=re.compile("".join(parts)),
        whole_unchecked_text=re.compile(
            "".join(_field_pattern(spec, layout.record_type, ANY) for spec in layout.fields)
        ),
        fields=MappingProxyType(fields),
        pnr_spans=pnr_spans,
        has_key_pnr=key is not None,
        checks=tuple(
            (spec, re.compile(part)) for spec, part in zip(layout.fields, parts, strict=True)
        ),
    )


COMPILED: Mapping[str, CompiledLayout] = MappingProxyType(
    {code: compile_layout(layout) for code, layout in LAYOUTS.items()}
)
"""Every layout, compiled, keyed by record type."""


def _branches(rests: Mapping[str, str], depth: int) -> str:
    """Alternatives keyed by record type, nested one character at a time so
    that the engine discards a branch on its first character."""
    if depth == 3:
        [rest] = rests.values()
        return rest
    by_char: dict[str, dict[str, str]] = {}
    for code, rest in rests.items():
        by_char.setdefault(code[depth], {})[code] = rest
    options = (re.escape(char) + _branches(sub, depth + 1) for char, sub in sorted(by_char.items()))
    return "(?:" + "|".join(options) + ")"


# A related person's CPR number in a line checked as a whole: blank, zeros, or
# a day and month that exist (29 February included: the caller checks those
# against the century rule, see ``rare_lines_pattern``).
_DAY_MONTH = (
    "(?:(?:0[1-9]|1[0-9]|2[0-9])(?:0[1-9]|1[0-2])|30(?:0[13-9]|1[0-2])|31(?:0[13578]|1[02]))"
)
_RELATED_PNR = f"(?:{_DAY_MONTH}[0-9]{{6}}| {{10}}|0{{10}})"


def _line_field_pattern(spec: FieldSpec, record_type: str, text: str) -> str:
    if spec.kind is FieldKind.PNR and spec.start != 4:
        if spec.length != 10:
            raise ValueError(f"record {record_type} field {spec.name}: a PNR has 10 digits")
        return _RELATED_PNR
    return _field_pattern(spec, record_type, text)


def rare_lines_pattern(
    layouts: Mapping[str, CompiledLayout], whole: tuple[str, ...]
) -> re.Pattern[bytes]:
    """A pattern over ISO-8859-1 bytes matching a line break followed by a
    line whose record type is in ``whole``, or whose related CPR number (a
    PNR field other than the key) starts with 2902: the lines that a check
    by ``lines_pattern`` leaves to be looked at one by one. (One search for
    all of them costs less than one search of the file per kind.)"""
    options = [re.escape(code) for code in whole]
    for code, compiled in layouts.items():
        options.extend(
            f"{re.escape(code)}(?s:.){{{start - 3}}}2902" for _, start, _ in compiled.pnr_spans
        )
    return re.compile(f"\\n(?:{'|'.join(options)})".encode("latin-1"))


def lines_pattern(
    layouts: Mapping[str, CompiledLayout], *, strict: bool, crlf: bool
) -> re.Pattern[bytes]:
    """A pattern over ISO-8859-1 bytes accepting any run of whole lines, each
    ended by CRLF if ``crlf`` else by LF, that are well-formed records, at full
    length, of the given layouts, whose related CPR numbers are blank, zeros
    or start with a day and month that exist. If ``strict`` is false, the
    input must already be known to hold only printable bytes, LF, and CR
    before LF.

    The run is matched possessively, so checking a whole file in one call
    needs no memory per line."""
    text = PRINTABLE if strict else _IN_LINE
    rests = {
        code: "".join(_line_field_pattern(spec, code, text) for spec in compiled.layout.fields[1:])
        for code, compiled in layouts.items()
    }
    if not all(compiled.layout.fields[0].name == "RECORDTYPE" for compiled in layouts.values()):
        raise ValueError("every layout must start with its record type")
    newline = "\r\n" if crlf else "\n"
    source = f"(?:{_branches(rests, 0)}{newline})*+"
    return re.compile(source.encode("latin-1"))
