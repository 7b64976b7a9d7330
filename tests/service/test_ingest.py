"""Ingest on in-memory fakes: persons in file order, sequence checks, the
state written only after the whole file, dead letters for refused persons."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cprbroker.adapters.ingest_state import InMemoryIngestState
from cprbroker.adapters.person_records import FileEnd, PersonMessage, decode
from cprbroker.adapters.person_records_sink import InMemoryPersonSink
from cprbroker.core.errors import KafkaUnavailableError
from cprbroker.core.events.sequence import FileMark
from cprbroker.ingest.run import EXIT_OK, EXIT_REFUSED, EXIT_REJECTED, ingest_files

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cpr"
EXAMPLE_A = FIXTURES / "example-a-move-and-protection.txt"


def framed(fragment: bytes, *, produced: str, previous: str) -> bytes:
    lines = [line for line in fragment.split(b"\n") if line.strip()]
    start = b"000" + b"0" * 10 + b"907001" + produced.encode() + previous.encode()
    end = b"999" + b"9" * 10 + f"{len(lines):08d}".encode()
    return b"\n".join([start, *lines, end]) + b"\n"


@pytest.fixture
def example_b(tmp_path: Path) -> Path:
    path = tmp_path / "example-b.txt"
    fragment = (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes()
    path.write_bytes(framed(fragment, produced="20240306", previous="20240305"))
    return path


async def run(
    paths: list[Path], state: InMemoryIngestState, sink: InMemoryPersonSink, **flags: bool
) -> tuple[int, str]:
    err = io.StringIO()
    status = await ingest_files(paths, state=state, sink=sink, err=err, **flags)
    return status, err.getvalue()


async def test_persons_are_published_in_file_order_then_marks_then_state(
    example_b: Path,
) -> None:
    state, sink = InMemoryIngestState(), InMemoryPersonSink(partition_count=3)
    status, err = await run([EXAMPLE_A, example_b], state, sink)
    assert status == EXIT_OK, err
    keys = [key for key, _ in sink.persons]
    assert keys == [b"0701614011", b"0707614226", b"0708614327", b"0707614226"]
    messages = [decode(key, value) for key, value in sink.persons]
    assert all(isinstance(m, PersonMessage) for m in messages)
    assert [m.file.file_id for m in messages if isinstance(m, PersonMessage)] == [
        "907001-20240305",
        "907001-20240305",
        "907001-20240306",
        "907001-20240306",
    ]
    marks = [decode(key, value) for _, key, value in sink.marks]
    assert [(m.file.file_id, m.partition) for m in marks if isinstance(m, FileEnd)] == [
        ("907001-20240305", 0),
        ("907001-20240305", 1),
        ("907001-20240305", 2),
        ("907001-20240306", 0),
        ("907001-20240306", 1),
        ("907001-20240306", 2),
    ]
    assert state.history == [
        FileMark("907001", "2024-03-05", "2024-03-04"),
        FileMark("907001", "2024-03-06", "2024-03-05"),
    ]
    assert "2 persons" in err


async def test_a_repeat_changes_nothing_and_says_so() -> None:
    state, sink = InMemoryIngestState(), InMemoryPersonSink()
    await run([EXAMPLE_A], state, sink)
    published = list(sink.persons)
    status, err = await run([EXAMPLE_A], state, sink)
    assert status == EXIT_OK
    assert "already applied: OPGAVENR 907001 PRODDTO 2024-03-05" in err
    assert sink.persons == published


async def test_a_gap_is_refused_naming_both_dates_unless_allowed(example_b: Path) -> None:
    state = InMemoryIngestState(FileMark("907001", "2024-03-01", "2024-02-29"))
    sink = InMemoryPersonSink()
    status, err = await run([example_b, EXAMPLE_A], state, sink)
    assert status == EXIT_REFUSED
    assert "PRODDTOFORRIG 2024-03-05" in err
    assert "PRODDTO 2024-03-01" in err
    assert "--allow-gap" in err
    assert sink.persons == []
    assert state.history == []

    status, err = await run([example_b], state, sink, allow_gap=True)
    assert status == EXIT_OK, err
    assert len(sink.persons) == 2


async def test_a_full_extract_is_published_without_predecessor(example_b: Path) -> None:
    state = InMemoryIngestState(FileMark("907001", "2024-03-01", "2024-02-29"))
    sink = InMemoryPersonSink()
    status, err = await run([example_b], state, sink, full=True)
    assert status == EXIT_OK, err
    message = decode(*sink.persons[0])
    assert isinstance(message, PersonMessage)
    assert message.file.full


async def test_a_crash_mid_file_leaves_the_state_so_the_file_is_published_again() -> None:
    state, sink = InMemoryIngestState(), InMemoryPersonSink(fail_after=1)
    with pytest.raises(KafkaUnavailableError):
        await run([EXAMPLE_A], state, sink)
    assert state.last_applied() is None
    assert sink.marks == []

    sink.fail_after = None
    status, _ = await run([EXAMPLE_A], state, sink)
    assert status == EXIT_OK
    assert [key for key, _ in sink.persons] == [b"0701614011", b"0701614011", b"0707614226"]
    assert state.last_applied() == FileMark("907001", "2024-03-05", "2024-03-04")


async def test_a_refused_person_goes_to_the_dead_letter_topic(tmp_path: Path) -> None:
    lines = EXAMPLE_A.read_bytes().split(b"\n")
    # Line 3 is person X's 002 record; a letter in KOMKOD makes it malformed.
    lines[2] = lines[2][:13] + b"01x1" + lines[2][17:]
    path = tmp_path / "bad.txt"
    path.write_bytes(b"\n".join(lines))
    state, sink = InMemoryIngestState(), InMemoryPersonSink()
    status, err = await run([path], state, sink)
    assert status == EXIT_REJECTED
    assert [key for key, _ in sink.persons] == [b"0707614226"]
    ((key, _, headers),) = sink.dead_letters
    assert key == b"0701614011"
    assert headers["cpr_stage"] == b"ingest"
    assert b"line 3" in headers["cpr_error"]
    assert "1 refused" in err
    assert "0701614011" not in err


async def test_an_unreadable_or_unframed_file_is_refused(tmp_path: Path) -> None:
    state, sink = InMemoryIngestState(), InMemoryPersonSink()
    status, err = await run([tmp_path / "missing.txt"], state, sink)
    assert status == EXIT_REFUSED
    assert "cannot read it" in err
    fragment = tmp_path / "fragment.txt"
    fragment.write_bytes((FIXTURES / "example-b-death-derived-fragment.txt").read_bytes())
    status, err = await run([fragment], state, sink)
    assert status == EXIT_REFUSED
    assert "file refused" in err
