"""Whatever the bytes, the parser raises only its own errors, and whatever it
accepts can be typed without error."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cprbroker.core.cpr.parser import parse_extract, parse_records
from cprbroker.core.cpr.records import RecordSet
from cprbroker.core.errors import ExtractError

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpr"
EXAMPLE_A = (FIXTURES / "example-a-move-and-protection.txt").read_bytes()
EXAMPLE_B = (FIXTURES / "example-b-death-derived-fragment.txt").read_bytes()
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _read_everything(result: RecordSet) -> None:
    """Type every field of every record the parser accepted (lazy typing must not fail)."""
    for person in result.persons:
        for record in person.records:
            assert len(record.raw) > 3
            record.fields  # noqa: B018 - typing every field is the point
        _ = (person.events, person.person, person.address, person.protections)
        _ = (person.name, person.civil_status)
    for record in (*result.error_records, *result.receipts):
        record.fields  # noqa: B018
    for error in result.rejected:
        assert error.source in str(error)


def _parse_both(data: bytes) -> None:
    for parse in (parse_extract, parse_records):
        try:
            result = parse(data, source="fuzz.txt")
        except ExtractError as error:
            message = str(error)
        else:
            _read_everything(result)
            continue
        assert "fuzz.txt" in message


@SETTINGS
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes) -> None:
    _parse_both(data)


@st.composite
def _mutated(draw: st.DrawFn, base: bytes) -> bytes:
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        action = draw(st.sampled_from(["replace", "delete", "insert"]))
        position = draw(st.integers(0, max(len(data) - 1, 0)))
        byte = draw(st.sampled_from([*b"0123456789 \n\r-*\xc6\xd8\x00\x86AKM", 0xFF]))
        if action == "replace" and data:
            data[position] = byte
        elif action == "delete" and data:
            del data[position]
        else:
            data.insert(position, byte)
    return bytes(data)


@SETTINGS
@given(_mutated(EXAMPLE_A))
def test_mutated_example_a(data: bytes) -> None:
    _parse_both(data)


@SETTINGS
@given(_mutated(EXAMPLE_A.replace(b"\n", b"")))
def test_mutated_example_a_without_line_breaks(data: bytes) -> None:
    _parse_both(data)


@SETTINGS
@given(_mutated(EXAMPLE_B))
def test_mutated_example_b(data: bytes) -> None:
    _parse_both(data)
