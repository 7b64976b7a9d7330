"""The messages on cpr.person-records and the processor's replica entries
survive a round trip, and malformed ones are refused with a JSON pointer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cprbroker.adapters.person_records import (
    FileEnd,
    FileInfo,
    PersonMessage,
    decode,
    encode_file_end,
    encode_person,
    encode_rejected,
)
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.errors import EventFormatError, RecordError, ReplicaStoreError
from cprbroker.core.events.apply import extract_meta
from cprbroker.core.events.snapshot import build_snapshot
from cprbroker.processor.replica_codec import ReplicaEntry, decode_entry, encode_entry

EXAMPLE_A = Path(__file__).resolve().parents[1] / "fixtures/cpr/example-a-move-and-protection.txt"


def example() -> tuple[FileInfo, list[PersonMessage]]:
    extract = parse_extract(EXAMPLE_A.read_bytes(), source="example-a.txt")
    file = FileInfo.of(extract_meta(extract), full=False, source="example-a.txt")
    messages = []
    for person in extract.persons:
        decoded = decode(person.pnr.encode(), encode_person(file, person))
        assert isinstance(decoded, PersonMessage)
        messages.append(decoded)
    return file, messages


def test_a_person_message_carries_the_file_and_the_records_with_their_lines() -> None:
    extract = parse_extract(EXAMPLE_A.read_bytes(), source="example-a.txt")
    file, messages = example()
    assert file.file_id == "907001-20240305"
    assert file.mark.previous_production_date == "2024-03-04"
    for person, message in zip(extract.persons, messages, strict=True):
        assert message.pnr == person.pnr
        assert message.file == file
        assert [(r.record_type, r.line, r.raw) for r in message.records] == [
            (r.record_type, r.line, r.raw) for r in person.records
        ]
        assert build_snapshot(message.records) == build_snapshot(person)


def test_raw_records_are_the_records_lines_and_texts_before_and_after_typing() -> None:
    for person in parse_extract(EXAMPLE_A.read_bytes(), source="example-a.txt").persons:
        untyped = person.raw_records()
        typed = ([r.line for r in person.records], [r.raw for r in person.records])
        assert untyped == typed
        assert person.raw_records() == typed


def test_a_file_end_mark_round_trips() -> None:
    file, _ = example()
    end = FileEnd(file, partition=2, partitions=6, persons=2)
    assert decode(b"!file-end", encode_file_end(end)) == end


def split(value: bytes) -> tuple[dict[str, object], list[str]]:
    """A person message as its JSON header and its records."""
    header, _, body = value.partition(b"\n")
    return json.loads(header), body.decode("latin-1").split("\n")


def join(header: dict[str, object], records: list[str]) -> bytes:
    return json.dumps(header).encode() + b"\n" + "\n".join(records).encode("latin-1")


def _set(items: list[str], index: int, value: str) -> None:
    items[index] = value


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        (lambda h, r: h.update(v=2), "/v"),
        (lambda h, r: h.update(kind="other"), "/kind"),
        (lambda h, r: h["file"].update(prod=20240305), "/file/prod"),
        (lambda h, r: h["file"].update(full="yes"), "/file/full"),
        (lambda h, r: r.clear(), "/records"),
        (lambda h, r: h.update(lines=[1]), "/lines"),
        (lambda h, r: _set(r, 0, r[0][:50]), "/records/0"),
        (lambda h, r: _set(r, 0, "777" + r[0][3:]), "/records/0"),
        (lambda h, r: _set(r, 1, r[1][:5] + "9" + r[1][6:]), "/records/1"),
    ],
)
def test_malformed_messages_are_refused_naming_the_place(change: object, pointer: str) -> None:
    extract = parse_extract(EXAMPLE_A.read_bytes(), source="example-a.txt")
    file = FileInfo.of(extract_meta(extract), full=False, source="example-a.txt")
    person = extract.persons[0]
    header, records = split(encode_person(file, person))
    change(header, records)  # type: ignore[operator]
    with pytest.raises(EventFormatError) as raised:
        decode(person.pnr.encode(), join(header, records))
    assert str(raised.value).startswith(pointer)
    assert person.pnr not in str(raised.value)


@pytest.mark.parametrize("value", [None, b"\xff", b"[]", b"{", b"{}\n"])
def test_non_messages_are_refused(value: bytes | None) -> None:
    with pytest.raises(EventFormatError):
        decode(b"0701614011", value)


def test_a_key_that_is_not_a_pnr_is_refused() -> None:
    extract = parse_extract(EXAMPLE_A.read_bytes(), source="example-a.txt")
    file = FileInfo.of(extract_meta(extract), full=False, source="example-a.txt")
    value = encode_person(file, extract.persons[0])
    with pytest.raises(EventFormatError, match="key"):
        decode(b"x", value)
    with pytest.raises(EventFormatError, match="another person"):
        decode(extract.persons[1].pnr.encode(), value)


def test_a_rejected_person_names_file_line_and_field() -> None:
    file, _ = example()
    error = RecordError(
        source="f.txt", line=7, record_type="002", field="KOMKOD", value="x", reason="not digits"
    )
    document = json.loads(encode_rejected(file, error))
    assert document["line"] == 7
    assert document["field"] == "KOMKOD"
    assert document["file"]["id"] == file.file_id


def test_a_replica_entry_round_trips_and_leaves_out_empty_members() -> None:
    _, messages = example()
    for message in messages:
        snapshot = build_snapshot(message.records)
        entry = ReplicaEntry("907001-20240305", "2024-03-05", snapshot)
        stored = encode_entry(entry)
        assert decode_entry(stored) == entry
        assert b"null" not in stored
        assert b"[]" not in stored


def test_a_replica_entry_knows_which_files_it_reflects() -> None:
    _, messages = example()
    entry = ReplicaEntry("907001-20240305", "2024-03-05", build_snapshot(messages[0].records))
    assert entry.has_applied("907001-20240305", "2024-03-05")
    assert entry.has_applied("907001-20240304", "2024-03-04")
    assert not entry.has_applied("907001-20240306", "2024-03-06")


def test_a_replica_entry_written_by_a_newer_version_is_read() -> None:
    _, messages = example()
    snapshot = build_snapshot(messages[0].records)
    document = json.loads(encode_entry(ReplicaEntry("f", "2024-03-05", snapshot)))
    document["s"]["future_member"] = {"x": 1}
    document["later"] = True
    assert decode_entry(json.dumps(document).encode()).snapshot == snapshot


@pytest.mark.parametrize("stored", [b"", b"{}", b'{"f":"x","d":"y","s":{}}', b'{"f":1,"d":"y"'])
def test_an_unreadable_replica_entry_is_an_error(stored: bytes) -> None:
    with pytest.raises(ReplicaStoreError):
        decode_entry(stored)
