"""The whole-file check (one pattern over every line) must decide exactly as
the record-by-record check: same persons, same rejections, same messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cprbroker.core.cpr import parser
from cprbroker.core.cpr.compiled import COMPILED
from cprbroker.core.cpr.layouts import format_record
from cprbroker.core.cpr.parser import parse_extract
from cprbroker.core.cpr.records import Extract
from cprbroker.synth.writer import SynthSettings, generate

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cpr"
EXAMPLE_A = (FIXTURES / "example-a-move-and-protection.txt").read_bytes()


def _summary(extract: Extract) -> tuple[Any, ...]:
    return (
        [(p.pnr, [(r.record_type, r.line, r.raw) for r in p]) for p in extract.persons],
        [(e.line, e.field, e.pnr, str(e)) for e in extract.rejected],
        [(r.line, r.raw) for r in extract.error_records + extract.receipts],
        extract.record_count,
    )


def _both_ways(data: bytes, monkeypatch: pytest.MonkeyPatch) -> tuple[bool, Extract]:
    """Parse ``data`` as it comes and with the whole-file check switched off;
    assert both agree. Returns whether the whole-file check passed."""
    passed: list[bool] = []
    real = parser._body_well_formed

    def spy(*args: Any) -> list[int] | None:
        rare = real(*args)
        passed.append(rare is not None)
        return rare

    with monkeypatch.context() as patch:
        patch.setattr(parser, "_body_well_formed", spy)
        fast = parse_extract(data, source="f.txt")
    with monkeypatch.context() as patch:
        patch.setattr(parser, "_body_well_formed", lambda *_: None)
        slow = parse_extract(data, source="f.txt")
    assert _summary(fast) == _summary(slow)
    return passed == [True], fast


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    folder = tmp_path_factory.mktemp("synth")
    [path] = generate(SynthSettings(persons=40, days=0, seed="whole-file", out=folder)).files
    return path.read_bytes()


def test_well_formed_files_take_the_whole_file_check(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    for data in (EXAMPLE_A, EXAMPLE_A.replace(b"\n", b"\r\n"), synthetic):
        passed, extract = _both_ways(data, monkeypatch)
        assert passed
        assert extract.persons
        assert not extract.rejected


def test_trimmed_or_short_lines_fall_back_to_the_record_check(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = synthetic.split(b"\n")
    lines[5] = lines[5][:-1]  # one character short: padded if blank, else refused
    lines[9] = lines[9].rstrip(b" ")
    for newline in (b"\n", b"\r\n"):
        passed, _ = _both_ways(newline.join(lines), monkeypatch)
        assert not passed


@pytest.mark.parametrize(
    ("value", "whole_file"),
    [
        ("3213614226", False),  # no such day: refused by the whole-file pattern
        ("2902011234", True),  # 29 February 1901: looked at line by line
    ],
)
def test_invalid_related_pnr_refuses_the_person_on_both_paths(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch, value: str, whole_file: bool
) -> None:
    lines = synthetic.split(b"\n")
    index = next(i for i, line in enumerate(lines) if COMPILED[line[:3].decode()].pnr_spans)
    name, start, end = COMPILED[lines[index][:3].decode()].pnr_spans[0]
    line = lines[index]
    lines[index] = line[:start] + value.encode() + line[end:]
    passed, extract = _both_ways(b"\n".join(lines), monkeypatch)
    assert passed is whole_file
    [error] = extract.rejected
    assert error.field == name
    assert error.line == index + 1
    assert error.pnr == line[3:13].decode()
    assert error.pnr not in {p.pnr for p in extract.persons}


def test_related_pnr_born_on_a_leap_day_is_kept(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = synthetic.split(b"\n")
    changed = 0
    for index, line in enumerate(lines):
        spans = COMPILED[line[:3].decode()].pnr_spans if line[:3].isdigit() else ()
        for _, start, end in spans[:1]:
            if line[start:end].strip(b" 0"):
                lines[index] = line[:start] + b"2902961234" + line[end:]  # 1996
                changed += 1
    assert changed > 3
    passed, extract = _both_ways(b"\n".join(lines), monkeypatch)
    assert passed
    assert not extract.rejected


def test_bad_field_fails_the_whole_file_check(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = synthetic.split(b"\n")
    lines[3] = lines[3][:3] + b"X" + lines[3][4:]
    passed, extract = _both_ways(b"\n".join(lines), monkeypatch)
    assert not passed
    assert len(extract.rejected) == 1


def test_large_input_is_split_across_slices(monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = (EXAMPLE_A, EXAMPLE_A.replace(b"\n", b"\r\n"), EXAMPLE_A.rstrip(b"\n"))
    whole = [_summary(parse_extract(data, source="f.txt")) for data in inputs]
    monkeypatch.setattr("cprbroker.core.cpr.framing._SLICE", 7)
    for data, expected in zip(inputs, whole, strict=True):
        passed, extract = _both_ways(data, monkeypatch)
        assert passed
        assert _summary(extract) == expected


def test_error_records_and_receipts_among_persons(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = [line for line in synthetic.split(b"\n") if line]
    erna = lines[1][3:13].decode()
    extra = [
        format_record("910", {"SORTFELT-10": erna, "FEJLNR": "0012", "FEJLTXT": "UKENDT PNR"}),
        format_record("997", {"PNR": erna, "TIMESTAMPU": "202403041012", "HAENDELSE": "A45"}),
        format_record("997", {"PNR": "3213614226", "TIMESTAMPU": "202403041012"}),
    ]
    for at, record in zip((2, 6, 7), extra, strict=True):
        lines.insert(at, record.encode("latin-1"))
    lines[-1] = lines[-1][:13] + f"{len(lines) - 2:08d}".encode()
    passed, extract = _both_ways(b"\n".join(lines), monkeypatch)
    assert passed
    assert [r.line for r in extract.error_records] == [3]
    assert [r.line for r in extract.receipts] == [7]
    [error] = extract.rejected
    assert (error.line, error.record_type, error.field) == (8, "997", "PNR")
    assert erna in {p.pnr for p in extract.persons}


def test_persons_spanning_blocks_are_grouped_as_one(
    synthetic: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = _summary(parse_extract(synthetic, source="f.txt"))
    monkeypatch.setattr("cprbroker.core.cpr.grouping._BLOCK", 3)
    passed, extract = _both_ways(synthetic, monkeypatch)
    assert passed
    assert _summary(extract) == whole
