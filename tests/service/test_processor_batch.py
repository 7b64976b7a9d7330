"""The processor's batch derivation without Kafka: the same events as the
core's file application, nothing twice, dead letters for what fails."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cprbroker.adapters.avro_codec import default_codec
from cprbroker.adapters.event_catalogue import load_catalogue
from cprbroker.adapters.event_publisher import EventRecords
from cprbroker.adapters.person_records import FileInfo, decode, encode_person
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.cpr.records import Extract
from cprbroker.core.events.apply import apply_extract, extract_meta
from cprbroker.core.events.replica import InMemoryReplica
from cprbroker.processor.batch import BatchDeriver, BatchOutput
from cprbroker.processor.replica_codec import decode_entry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cpr"


def framed(fragment: bytes, *, produced: str, previous: str) -> bytes:
    lines = [line for line in fragment.split(b"\n") if line.strip()]
    start = b"000" + b"0" * 10 + b"907001" + produced.encode() + previous.encode()
    end = b"999" + b"9" * 10 + f"{len(lines):08d}".encode()
    return b"\n".join([start, *lines, end]) + b"\n"


def extracts() -> list[Extract]:
    a = (FIXTURES / "example-a-move-and-protection.txt").read_bytes()
    b = framed(
        (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes(),
        produced="20240306",
        previous="20240305",
    )
    return [parse_extract(a, source="a.txt"), parse_extract(b, source="b.txt")]


def messages(extract: Extract, *, full: bool = False) -> list[tuple[bytes | None, bytes | None]]:
    file = FileInfo.of(extract_meta(extract), full=full, source="x.txt")
    return [(p.pnr.encode(), encode_person(file, p)) for p in extract.persons]


class Table:
    """The replica table as a dict, written the way the app writes it."""

    def __init__(self) -> None:
        self.values: dict[bytes, bytes] = {}
        self.lookups: list[int] = []

    def lookup(self, position: int, key: bytes) -> bytes | None:
        self.lookups.append(position)
        return self.values.get(key)

    def apply(self, out: BatchOutput) -> None:
        for update in out.updates:
            self.values[update.key] = update.value


@pytest.fixture
def deriver() -> BatchDeriver:
    return BatchDeriver(load_catalogue(None), EventRecords(default_codec()))


def event_ids(out: BatchOutput) -> list[str]:
    return [dict(headers)["ce_id"].decode() for _, _, headers in out.events]


def test_batches_give_the_events_of_the_core_file_application(deriver: BatchDeriver) -> None:
    replica, catalogue = InMemoryReplica(), load_catalogue(None)
    table = Table()
    for extract in extracts():
        expected = apply_extract(extract, replica, catalogue, allow_gap=True).events
        out = deriver.derive_batch(messages(extract), table.lookup)
        table.apply(out)
        assert event_ids(out) == [event.id for event in expected]
        codec = default_codec()
        assert [codec.decode(value) for _, value, _ in out.events] == expected
        assert [key for key, _, _ in out.events] == [e.pnr.encode() for e in expected]
    for pnr in (b"0701614011", b"0707614226", b"0708614327"):
        assert decode_entry(table.values[pnr]).snapshot == replica.get(pnr.decode())


def test_a_replayed_or_older_file_gives_nothing(deriver: BatchDeriver) -> None:
    first, second = extracts()
    table = Table()
    for extract in (first, second):
        table.apply(deriver.derive_batch(messages(extract), table.lookup))
    stored = dict(table.values)
    for extract in (second, first):
        out = deriver.derive_batch(messages(extract), table.lookup)
        assert (out.events, out.updates, out.known) == ([], [], [])
        assert out.skipped == len(extract.persons)
    assert table.values == stored


def test_a_person_twice_in_one_batch_sees_its_first_update(deriver: BatchDeriver) -> None:
    first, second = extracts()
    table = Table()
    together = deriver.derive_batch(messages(first) + messages(second), table.lookup)
    apart_table = Table()
    apart = []
    for extract in (first, second):
        out = deriver.derive_batch(messages(extract), apart_table.lookup)
        apart_table.apply(out)
        apart.extend(event_ids(out))
    assert event_ids(together) == apart
    # The second message of 0707614226 was not looked up in the table.
    assert len(table.lookups) == 3


def test_a_full_extract_fills_the_replica_without_events(deriver: BatchDeriver) -> None:
    first, _ = extracts()
    table = Table()
    out = deriver.derive_batch(messages(first, full=True), table.lookup)
    assert out.events == []
    assert out.known == [b"0701614011", b"0707614226"]
    table.apply(out)
    assert set(table.values) == {b"0701614011", b"0707614226"}


def test_what_fails_becomes_a_dead_letter_and_the_rest_goes_on(deriver: BatchDeriver) -> None:
    first, _ = extracts()
    batch = messages(first)
    broken_entry = {batch[1][0]: b"{not json"}
    bad_message = (b"0701614011", b'{"v": 9}')
    table = Table()
    table.values.update(broken_entry)
    out = deriver.derive_batch([bad_message, *batch], table.lookup)
    assert [key for key, _, _ in out.dead_letters] == [b"0701614011", b"0707614226"]
    kinds = [dict(headers)["cpr_error_type"] for _, _, headers in out.dead_letters]
    assert kinds == [b"EventFormatError", b"ReplicaStoreError"]
    assert all(dict(h)["cpr_stage"] == b"processor" for _, _, h in out.dead_letters)
    # The dead letter is the original message, so it can be replayed.
    assert out.dead_letters[1][1] == batch[1][1]
    assert [u.key for u in out.updates] == [b"0701614011"]
    assert json.loads(out.dead_letters[0][1]) == {"v": 9}


def test_file_end_marks_are_passed_on(deriver: BatchDeriver) -> None:
    from cprbroker.adapters.person_records import FileEnd, encode_file_end

    first, _ = extracts()
    file = FileInfo.of(extract_meta(first), full=True, source="a.txt")
    end = FileEnd(file, partition=0, partitions=1, persons=2)
    out = deriver.derive_batch([(b"!file-end", encode_file_end(end))], Table().lookup)
    assert out.file_ends == [end]
    assert decode(b"!file-end", encode_file_end(end)) == end
