"""Parsed CPR records: one :class:`Record`, one person's records, one extract.

Field values are typed when they are read (the parser has already checked
that every field is well-formed, so typing cannot fail). See
:mod:`cprbroker.core.cpr.values` for what each kind of field becomes.
Timestamps are naive ``datetime.datetime`` values in CPR's local time
(Danish time); the extract carries no UTC offset.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from cprbroker.core.cpr.compiled import COMPILED
from cprbroker.core.cpr.values import Value
from cprbroker.core.cpr.views import (
    Address,
    CivilStatusEntry,
    Event,
    Name,
    PersonInfo,
    Protection,
)
from cprbroker.core.errors import RecordError


class Record:
    """One well-formed record: its type, line number, raw text and typed fields.

    ``line`` is 1-based; in a file without line breaks it is the record's
    ordinal. ``raw`` is the record padded to its full length.
    """

    __slots__ = ("_fields", "line", "raw", "record_type")

    def __init__(self, record_type: str, line: int, raw: str) -> None:
        self.record_type = record_type
        self.line = line
        self.raw = raw
        self._fields = COMPILED[record_type].fields

    def __getitem__(self, name: str) -> Value:
        """The typed value of field ``name`` (``KeyError`` if the layout has none)."""
        start, end, convert = self._fields[name]
        return convert(self.raw[start:end])

    def get(self, name: str, default: Value = None) -> Value:
        """The typed value of ``name``, or ``default`` if the layout has no such field."""
        spec = self._fields.get(name)
        if spec is None:
            return default
        start, end, convert = spec
        return convert(self.raw[start:end])

    def raw_value(self, name: str) -> str:
        """The field's characters exactly as they stand in the record."""
        start, end, _ = self._fields[name]
        return self.raw[start:end]

    @property
    def fields(self) -> Mapping[str, Value]:
        """Every field, typed, in position order (RECORDTYPE included)."""
        raw = self.raw
        return {
            name: convert(raw[start:end]) for name, (start, end, convert) in self._fields.items()
        }

    @property
    def pnr(self) -> str:
        """Positions 4-13: the PNR of person records (SORTFELT-10 for 000/910/999)."""
        return self.raw[3:13]

    def __repr__(self) -> str:
        # No field values: a record holds personal data.
        return f"Record({self.record_type!r}, line={self.line})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record):
            return NotImplemented
        return (self.record_type, self.line, self.raw) == (other.record_type, other.line, other.raw)

    def __hash__(self) -> int:
        return hash((self.record_type, self.line, self.raw))


class PersonRecords:
    """All records of one person in one file, in file order, wherever they stood."""

    __slots__ = ("_body", "_by_type", "_first_line", "_indices", "_records", "pnr")

    def __init__(self, pnr: str, indices: list[int], body: list[str], first_line: int) -> None:
        """``body[i]`` for ``i`` in ``indices`` are this person's records, at
        full length; ``body[i]`` stands on line ``first_line + i``."""
        self.pnr = pnr
        self._indices = indices
        self._body = body
        self._first_line = first_line
        self._records: list[Record] | None = None
        self._by_type: dict[str, list[Record]] | None = None

    @classmethod
    def of(cls, pnr: str, records: list[Record]) -> PersonRecords:
        """A person from records already parsed (e.g. read back from a topic)."""
        person = cls(pnr, [], [], 1)
        person._records = list(records)
        return person

    @property
    def records(self) -> list[Record]:
        """The records in file order."""
        if self._records is None:
            body, first = self._body, self._first_line
            self._records = [Record(body[i][:3], first + i, body[i]) for i in self._indices]
        return self._records

    def raw_records(self) -> tuple[list[int], list[str]]:
        """The records' line numbers and texts, in file order, without making
        :class:`Record` objects (all that publishing a person needs; a full
        extract has ten million records)."""
        if self._records is not None:
            return [r.line for r in self._records], [r.raw for r in self._records]
        body, first = self._body, self._first_line
        return [first + i for i in self._indices], [body[i] for i in self._indices]

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records) if self._records is not None else len(self._indices)

    def __repr__(self) -> str:
        return f"PersonRecords(<pnr>, {len(self)} records)"

    def _types(self) -> dict[str, list[Record]]:
        # Built once: a snapshot asks for a dozen record types of each person.
        by_type = self._by_type
        if by_type is None:
            by_type = self._by_type = {}
            for record in self.records:
                by_type.setdefault(record.record_type, []).append(record)
        return by_type

    def of_type(self, record_type: str) -> list[Record]:
        """This person's records of ``record_type``, in file order."""
        return list(self._types().get(record_type, ()))

    def first(self, record_type: str) -> Record | None:
        """The first record of ``record_type``, or ``None``."""
        found = self._types().get(record_type)
        return found[0] if found else None

    @property
    def record_types(self) -> list[str]:
        """The record types present, in order of first appearance."""
        return list(dict.fromkeys(r.record_type for r in self.records))

    @property
    def events(self) -> list[Event]:
        """The 099 event records, in file order."""
        return [Event.from_record(r) for r in self.of_type("099")]

    @property
    def person(self) -> PersonInfo | None:
        """Record 001 (always delivered for a person in a delta)."""
        record = self.first("001")
        return None if record is None else PersonInfo.from_record(record)

    @property
    def address(self) -> Address | None:
        """Record 002, the current address (only for status below 30)."""
        record = self.first("002")
        return None if record is None else Address.from_record(record)

    @property
    def protections(self) -> list[Protection]:
        """The 004 protection records (0-4)."""
        return [Protection.from_record(r) for r in self.of_type("004")]

    @property
    def name(self) -> Name | None:
        """Record 008, the current name."""
        record = self.first("008")
        return None if record is None else Name.from_record(record)

    @property
    def civil_status(self) -> CivilStatusEntry | None:
        """Record 012, the current civil status."""
        record = self.first("012")
        return None if record is None else CivilStatusEntry.from_record(record)


@dataclass(frozen=True, slots=True)
class StartRecord:
    """Record 000."""

    opgavenr: str
    production_date: dt.date
    previous_production_date: dt.date | None
    """PRODDTOFORRIG; compare with the previous file's PRODDTO to find gaps."""


@dataclass(frozen=True, slots=True)
class EndRecord:
    """Record 999."""

    counter: int
    """TAELLER: the number of data records (everything but 000 and 999)."""


@dataclass(slots=True)
class RecordSet:
    """What a run of records yields: persons, refused persons, 910 and 997."""

    source: str
    persons: list[PersonRecords] = field(default_factory=list)
    """Well-formed persons, grouped by PNR, in order of first appearance."""
    rejected: list[RecordError] = field(default_factory=list)
    """One error per bad record; every person named here is left out of ``persons``."""
    error_records: list[Record] = field(default_factory=list)
    """910 error records (the CPR office's reports on the request)."""
    receipts: list[Record] = field(default_factory=list)
    """997 receipts for deleted PNR subscriptions."""
    record_count: int = 0
    """Data records read (excluding 000 and 999)."""

    @property
    def rejected_pnrs(self) -> set[str]:
        """The PNRs of refused persons (as far as the bad record named one)."""
        return {e.pnr for e in self.rejected if e.pnr is not None}


@dataclass(slots=True, kw_only=True)
class Extract(RecordSet):
    """A whole delta file: framing plus the records between 000 and 999."""

    start: StartRecord
    end: EndRecord

    @property
    def file_id(self) -> str:
        """Stable id of the file from OPGAVENR and PRODDTO, e.g. ``907001-20220225``."""
        return f"{self.start.opgavenr}-{self.start.production_date:%Y%m%d}"
