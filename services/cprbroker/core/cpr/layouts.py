"""Fixed-width layouts of the CPR extract records (P12170, cpr-domain.md §2.2-2.3).

Every record type is described as data: a :class:`RecordLayout` with its total
length and a tuple of :class:`FieldSpec`. Positions are 1-based, as in the CPR
office's documentation and CPR Broker's ``Definitions.xml``. Field names are the
Danish field names of those sources with Æ/Ø/Å written AE/OE/AA (as CPR itself
does in ``AEGTEPNR``), so that callers can type them.

The fields of every layout tile the record exactly: no gaps, no overlaps. Where
the sources do not document a record's fields, the layout names what is known
(RECORDTYPE, PNR) and covers the rest with one ``FILLER`` field.

:func:`format_record` is the inverse of slicing: it places raw values into a
record of the right length. The synthetic data generator writes whole files
with it, so it is kept cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from cprbroker.core.cpr._layouts_current import CURRENT_LAYOUTS
from cprbroker.core.cpr._layouts_history import HISTORY_LAYOUTS
from cprbroker.core.cpr.fieldspec import FieldKind, FieldSpec

__all__ = [
    "LAYOUTS",
    "PERSON_RECORD_TYPES",
    "FieldKind",
    "FieldSpec",
    "RecordLayout",
    "format_record",
]


@dataclass(frozen=True, slots=True)
class RecordLayout:
    """The layout of one record type: its code, total length and fields."""

    record_type: str
    length: int
    fields: tuple[FieldSpec, ...]
    _index: Mapping[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index = {spec.name: spec for spec in self.fields}
        if len(index) != len(self.fields):
            raise ValueError(f"record {self.record_type}: duplicate field names")
        object.__setattr__(self, "_index", MappingProxyType(index))

    def field(self, name: str) -> FieldSpec:
        """The field called ``name``; ``KeyError`` if the layout has none."""
        return self._index[name]

    @property
    def names(self) -> tuple[str, ...]:
        """Field names in position order."""
        return tuple(spec.name for spec in self.fields)

    @property
    def has_pnr(self) -> bool:
        """Whether positions 4-13 hold the PNR of the person the record is about."""
        return "PNR" in self._index


_F = FieldKind

# Framing records. 000 and 999 carry no PNR; 910 carries SORTFELT-10 where
# person records have their PNR (it may hold PNR, FOEDDTO, KOEN, KOMKOD, ...).
_FRAMING: dict[str, tuple[int, tuple[FieldSpec, ...]]] = {
    "000": (
        35,
        (
            FieldSpec("RECORDTYPE", 1, 3, _F.CODE),
            FieldSpec("SORTFELT-10", 4, 10, _F.TEXT),
            FieldSpec("OPGAVENR", 14, 6, _F.CODE),
            FieldSpec("PRODDTO", 20, 8, _F.COMPACT_DATE),
            FieldSpec("PRODDTOFORRIG", 28, 8, _F.COMPACT_DATE),
        ),
    ),
    "910": (
        157,
        (
            FieldSpec("RECORDTYPE", 1, 3, _F.CODE),
            FieldSpec("SORTFELT-10", 4, 10, _F.TEXT),
            FieldSpec("INDDATA", 14, 75, _F.TEXT),
            FieldSpec("FEJLNR", 89, 4, _F.CODE),
            FieldSpec("FEJLTXT", 93, 65, _F.TEXT),
        ),
    ),
    "997": (
        43,
        (
            FieldSpec("RECORDTYPE", 1, 3, _F.CODE),
            FieldSpec("PNR", 4, 10, _F.PNR),
            FieldSpec("TIMESTAMPU", 14, 12, _F.TIMESTAMP),
            FieldSpec("HAENDELSE", 26, 3, _F.TEXT),
            FieldSpec("NGLKONST", 29, 15, _F.TEXT),
        ),
    ),
    "999": (
        21,
        (
            FieldSpec("RECORDTYPE", 1, 3, _F.CODE),
            FieldSpec("SORTFELT-10", 4, 10, _F.TEXT),
            FieldSpec("TAELLER", 14, 8, _F.NUMBER),
        ),
    ),
}


def _build() -> dict[str, RecordLayout]:
    tables: dict[str, tuple[int, tuple[FieldSpec, ...]]] = {}
    for source in (_FRAMING, CURRENT_LAYOUTS, HISTORY_LAYOUTS):
        for record_type, entry in source.items():
            if record_type in tables:
                raise ValueError(f"record {record_type} defined twice")
            tables[record_type] = entry
    return {
        record_type: RecordLayout(record_type, length, fields)
        for record_type, (length, fields) in sorted(tables.items())
    }


LAYOUTS: Mapping[str, RecordLayout] = MappingProxyType(_build())
"""Every record type of the extract, keyed by its three-digit code."""

PERSON_RECORD_TYPES: frozenset[str] = frozenset(
    code for code, layout in LAYOUTS.items() if layout.has_pnr and code != "997"
)
"""Record types that belong to one person (grouped by PNR when parsing)."""


# Per record type: the record type code, and per field (start0, length) in
# position order plus a name -> slot index, so format_record does no searching.
_FORMAT_PLANS: dict[str, tuple[tuple[int, ...], dict[str, int], tuple[str, ...]]] = {}
for _code, _layout in LAYOUTS.items():
    _FORMAT_PLANS[_code] = (
        tuple(spec.length for spec in _layout.fields),
        {spec.name: i for i, spec in enumerate(_layout.fields)},
        tuple(" " * spec.length for spec in _layout.fields),
    )


def format_record(record_type: str, values: Mapping[str, str]) -> str:
    """Build one record of ``record_type`` from raw string ``values``.

    Each value is placed left-justified and space-padded in its field; fields
    not given are blank. RECORDTYPE is set from ``record_type`` (a RECORDTYPE in
    ``values`` must agree). The result is exactly the record's length.

    Raises ``KeyError`` for an unknown record type or field name and
    ``ValueError`` for a value longer than its field.
    """
    try:
        lengths, slots, blanks = _FORMAT_PLANS[record_type]
    except KeyError:
        raise KeyError(f"unknown CPR record type {record_type!r}") from None
    parts = list(blanks)
    parts[0] = record_type
    for name, value in values.items():
        slot = slots.get(name)
        if slot is None:
            raise KeyError(f"record {record_type} has no field {name!r}")
        width = lengths[slot]
        size = len(value)
        if size > width:
            raise ValueError(
                f"record {record_type} field {name}: value of {size} characters "
                f"does not fit in {width}"
            )
        if slot == 0 and value != record_type:
            raise ValueError(f"record {record_type}: RECORDTYPE value {value!r} disagrees")
        parts[slot] = value if size == width else value.ljust(width)
    return "".join(parts)
