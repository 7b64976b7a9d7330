"""Parsed CPR records as JSON-friendly values (``json.dumps`` takes them as is).

Dates become ``yyyy-MM-dd``, timestamps ``yyyy-MM-ddTHH:MM`` (CPR local time,
no offset), partly unknown dates ``{"partial": "1961", "raw": "196100001299"}``,
code-list members their raw code; blank fields are ``null``.
"""

from __future__ import annotations

import datetime as dt

from cprbroker.core.cpr.records import PersonRecords, Record
from cprbroker.core.cpr.values import PartialDate, Value

JsonValue = str | int | dict[str, str] | None

# Fields every record repeats; left out of each record's object.
_IMPLIED = ("RECORDTYPE", "PNR")


def json_value(value: Value) -> JsonValue:
    """One typed field value as a JSON-friendly value."""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, PartialDate):
        return {"partial": value.isoformat(), "raw": value.raw}
    if isinstance(value, str):
        return str(value)  # enums: their raw code
    return value


def record_json(record: Record) -> dict[str, JsonValue]:
    """A record's fields by name (without RECORDTYPE and PNR), plus ``_line``."""
    fields: dict[str, JsonValue] = {"_line": record.line}
    for name, value in record.fields.items():
        if name not in _IMPLIED:
            fields[name] = json_value(value)
    return fields


def person_json(person: PersonRecords, *, file_id: str | None) -> dict[str, object]:
    """One person: PNR, file id and records grouped by type, in file order."""
    records: dict[str, list[dict[str, JsonValue]]] = {}
    for record in person.records:
        records.setdefault(record.record_type, []).append(record_json(record))
    return {"kind": "person", "pnr": person.pnr, "file_id": file_id, "records": records}
